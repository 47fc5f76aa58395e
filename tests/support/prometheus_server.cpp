#include "support/prometheus_server.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "support/daemon_process.h"
#include "support/http_get.h"

namespace cgmm::testing {

namespace {

using std::chrono::seconds;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

std::string prometheus_unavailable_reason() {
  if (::access(kPrometheusBinary, X_OK) != 0) {
    return std::string(kPrometheusBinary) +
           " is not installed (scripts/setup.sh prometheus installs it)";
  }
  return "";
}

PrometheusServer::PrometheusServer(const std::string& job,
                                   const std::vector<std::string>& targets) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cgmm-prometheus-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  dir_ = tmpl;
  {
    std::ofstream config(dir_ + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
           << "scrape_configs:\n  - job_name: " << job << "\n    static_configs:\n"
           << "      - targets:\n";
    for (const std::string& t : targets) {
      config << "          - '" << t << "'\n";
    }
  }
  port_ = free_loopback_port();
  const std::string log_path = dir_ + "/prometheus.log";
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (::chdir(dir_.c_str()) != 0) {
      ::_exit(126);
    }
    std::vector<std::string> args = {kPrometheusBinary, "--config.file=" + dir_ + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir_ + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {path_env, nullptr};
    ::execve(kPrometheusBinary, argv.data(), envp);
    ::_exit(127);
  }
  const bool ready = eventually(
      [&] {
        auto r = http_get(port_, "/-/ready", std::chrono::seconds(2));
        return r && r->status == 200;
      },
      seconds(30));
  if (!ready) {
    const std::string why = log();
    stop();
    throw std::runtime_error("prometheus did not become ready in 30 s:\n" + why);
  }
}

PrometheusServer::~PrometheusServer() {
  stop();
}

void PrometheusServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited =
        eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, seconds(10));
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::vector<PromSample> PrometheusServer::query(const std::string& promql) const {
  auto r = http_get(port_, "/api/v1/query?query=" + url_encode(promql));
  if (!r || r->status != 200) {
    return {};
  }
  // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},
  //  "value":[<unix time>,"<value>"]}]}}
  const nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
  if (doc.is_discarded() || doc.value("status", "") != "success" ||
      doc["data"].value("resultType", "") != "vector") {
    return {};
  }
  const nlohmann::json& result = doc["data"]["result"];
  std::vector<PromSample> out;
  out.reserve(result.size());
  for (const auto& e : result) {
    PromSample s;
    for (const auto& [k, v] : e["metric"].items()) {
      s.labels[k] = v.get<std::string>();
    }
    s.value = std::stod(e["value"][1].get<std::string>());
    out.push_back(std::move(s));
  }
  return out;
}

std::string PrometheusServer::log() const {
  return dir_.empty() ? "" : slurp(dir_ + "/prometheus.log");
}

}  // namespace cgmm::testing
