#include "listener_thread.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "kehu/error.h"

namespace kehu::server {

void ListenerThread::start(std::function<void()> loop) {
  if (running()) return;
  if (::pipe(wake_) != 0) throw Error(Errc::io, std::string("cannot create a pipe: ") + std::strerror(errno));
  thread_ = std::thread(std::move(loop));
}

void ListenerThread::stop() {
  if (running()) {
    stopping_ = true;
    const char byte = 0;
    if (::write(wake_[1], &byte, 1) < 0) std::perror("kehu-server: waking the commit listener");
    thread_.join();
  }
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

bool ListenerThread::wait(int fd, int ms) {
  pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd, POLLIN, 0}};
  while (::poll(fds, fd >= 0 ? 2 : 1, ms) < 0 && errno == EINTR) {
  }
  return !stopping_;
}

}  // namespace kehu::server
