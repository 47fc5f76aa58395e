#include "support/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace cgmm::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string temp_file(const std::string& suffix) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("cgmm-daemon-XXXXXX" + suffix)).string();
  int fd = ::mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
  if (fd < 0) {
    throw std::runtime_error("mkstemps failed");
  }
  ::close(fd);
  return tmpl;
}

}  // namespace

DaemonProcess::DaemonProcess(const std::vector<std::string>& args,
                             const std::vector<std::string>& env,
                             const std::function<void()>& in_child)
    : out_path_(temp_file(".out")), err_path_(temp_file(".err")) {
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // A clean environment: nothing of the test runner's CGMM_* or RUST_LOG leaks in.
    std::vector<std::string> all_env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    // ...except the sanitizer settings of a sanitized test run (scripts/sanitize.sh), which the
    // sanitized daemon must see too; `env` may override them.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"}) {
      const std::string prefix = std::string(name) + "=";
      const bool overridden = std::any_of(
          env.begin(), env.end(), [&](const std::string& e) { return e.starts_with(prefix); });
      if (const char* value = std::getenv(name); value && !overridden) {
        all_env.push_back(std::string(name) + "=" + value);
      }
    }
    all_env.insert(all_env.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& e : all_env) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> all_args = {CGMM_BINARY};
    all_args.insert(all_args.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all_args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    if (in_child) {
      in_child();
    }
    ::execve(CGMM_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
}

DaemonProcess::~DaemonProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::filesystem::remove(out_path_);
  std::filesystem::remove(err_path_);
}

bool DaemonProcess::running() {
  if (status_) {
    return false;
  }
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

std::optional<int> DaemonProcess::wait(std::chrono::milliseconds timeout) {
  eventually([this] { return !running(); }, timeout);
  if (!status_ || !WIFEXITED(*status_)) {
    return std::nullopt;
  }
  return WEXITSTATUS(*status_);
}

void DaemonProcess::signal(int sig) {
  if (running()) {
    ::kill(pid_, sig);
  }
}

std::string DaemonProcess::out() const {
  return slurp(out_path_);
}
std::string DaemonProcess::err() const {
  return slurp(err_path_);
}

bool DaemonProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
  return eventually([&] { return err().find(text) != std::string::npos; }, timeout);
}

RunResult run_daemon(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     std::chrono::milliseconds timeout) {
  DaemonProcess d(args, env);
  RunResult r;
  r.code = d.wait(timeout).value_or(-1);
  r.out = d.out();
  r.err = d.err();
  return r;
}

}  // namespace cgmm::testing
