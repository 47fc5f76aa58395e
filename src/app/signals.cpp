#include "app/signals.h"

#include <sys/signalfd.h>

#include <csignal>
#include <cstring>
#include <stdexcept>

namespace cgmm::app {

static_assert(kInterruptSignal == SIGUSR1);

SignalFd::SignalFd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) {
    sigaddset(&set, s);
  }
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    throw std::runtime_error("failed to block signals");
  }
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) {
    throw std::runtime_error(std::string("failed to create signalfd: ") + std::strerror(errno));
  }
}

std::optional<int> SignalFd::take() {
  signalfd_siginfo info{};
  if (::read(fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
    return std::nullopt;
  }
  return static_cast<int>(info.ssi_signo);
}

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the point is to interrupt
  sigaction(kInterruptSignal, &sa, nullptr);
}

}  // namespace cgmm::app
