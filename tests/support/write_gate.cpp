#include "support/write_gate.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace cgmm::testing {

namespace {

constexpr uint32_t kArg0Low = offsetof(seccomp_data, args[0]);
constexpr uint32_t kArg2Low = offsetof(seccomp_data, args[2]);
constexpr uint32_t kArg2High = offsetof(seccomp_data, args[2]) + 4;

std::string fd_path(pid_t pid, uint64_t fd) {
  char link[PATH_MAX];
  const std::string proc = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

bool matches(const std::string& path, const std::string& text) {
  return !text.empty() && path.find(text) != std::string::npos;
}

}  // namespace

std::function<void()> WriteGate::installer(FdChannel& channel) {
  return [&channel] {
    // write(fd > 2, buf, 1) -> user notification; everything else runs as usual.
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg2High),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg2Low),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0Low),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      ::_exit(120);
    }
    long fd =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0 || !channel.send(static_cast<int>(fd))) {
      ::_exit(121);
    }
    ::close(static_cast<int>(fd));
  };
}

WriteGate::WriteGate(FdChannel& channel, std::string hold_text)
    : fd_(channel.receive()), hold_text_(std::move(hold_text)) {
  if (!fd_) {
    throw std::runtime_error("no seccomp notification fd from the child");
  }
  thread_ = std::thread([this] { run(); });
}

WriteGate::~WriteGate() {
  release();
  stop_ = true;
  thread_.join();
}

void WriteGate::hold(const std::string& text) {
  std::lock_guard lock(mu_);
  hold_text_ = text;
}

void WriteGate::fail(const std::string& text, int err) {
  std::lock_guard lock(mu_);
  fail_text_ = text;
  fail_err_ = err;
}

void WriteGate::release() {
  std::vector<Pending> held;
  {
    std::lock_guard lock(mu_);
    hold_text_.clear();
    fail_text_.clear();
    held.swap(held_);
  }
  for (const Pending& p : held) {
    answer(p.id, 0);
  }
}

size_t WriteGate::seen(const std::string& text) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(seen_.begin(), seen_.end(),
                                           [&](const std::string& p) { return matches(p, text); }));
}

size_t WriteGate::held(const std::string& text) const {
  return holders(text).size();
}

std::vector<pid_t> WriteGate::holders(const std::string& text) const {
  std::lock_guard lock(mu_);
  // A held writer interrupted by a signal has left; the kernel no longer knows its id.
  std::vector<pid_t> out;
  for (const Pending& p : held_) {
    uint64_t id = p.id;
    if (matches(p.path, text) && ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0) {
      out.push_back(p.tid);
    }
  }
  return out;
}

void WriteGate::answer(uint64_t id, int err) {
  seccomp_notif_resp resp{};
  resp.id = id;
  if (err == 0) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // the real write runs in the kernel
  } else {
    resp.error = -err;
  }
  ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND,
          &resp);  // ENOENT: the writer was interrupted meanwhile
}

void WriteGate::run() {
  while (!stop_) {
    pollfd p{fd_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n <= 0) {
      continue;
    }
    if (p.revents & (POLLHUP | POLLERR)) {
      return;  // every filtered process has exited
    }
    seccomp_notif req{};
    if (::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      continue;
    }
    const std::string path = fd_path(static_cast<pid_t>(req.pid), req.data.args[0]);
    int err = 0;
    bool hold = false;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(path);
      if (matches(path, fail_text_)) {
        err = fail_err_;
      } else if (matches(path, hold_text_)) {
        held_.push_back({req.id, path, static_cast<pid_t>(req.pid)});
        hold = true;
      }
    }
    if (!hold) {
      answer(req.id, err);
    }
  }
}

int with_write_errno(int err, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0Low),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & 0xffff)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      ::_exit(120);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace cgmm::testing
