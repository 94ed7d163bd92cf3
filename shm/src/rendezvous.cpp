// The standalone rendezvous: an abstract Unix socket that carries a
// segment's name once and then serves as the liveness socket.

#include "grainflow/shm/rendezvous.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/shm/segment.hpp"

#include "posix.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <thread>
#include <utility>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace grainflow::shm {

namespace {

using clock = std::chrono::steady_clock;
using detail::last_system_error;
using detail::posix_call;
using detail::unique_fd;

constexpr std::string_view address_prefix = "grainflow-shm/";

static_assert(address_prefix.size() + max_rendezvous_name + 1 <= sizeof(sockaddr_un{}.sun_path),
              "an abstract address is a NUL byte, the prefix and the name");

bool valid_rendezvous_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= max_rendezvous_name &&
         name.find('\0') == std::string_view::npos;
}

/// The abstract address "\0grainflow-shm/<name>" and its length.
std::pair<sockaddr_un, socklen_t> address_of(std::string_view name) noexcept {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  char* path = address.sun_path + 1; // sun_path[0] stays NUL: abstract
  std::memcpy(path, address_prefix.data(), address_prefix.size());
  std::memcpy(path + address_prefix.size(), name.data(), name.size());
  const auto length = offsetof(sockaddr_un, sun_path) + 1 + address_prefix.size() + name.size();
  return {address, static_cast<socklen_t>(length)};
}

/// Milliseconds left until `deadline`, for poll: at least 0.
int remaining_ms(clock::time_point deadline) noexcept {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

/// Waits for `events` on `fd` until `deadline`: the revents, 0 on timeout,
/// -1 on error.
int wait_for(int fd, short events, clock::time_point deadline) noexcept {
  pollfd p{fd, events, 0};
  const int n = posix_call([&] { return ::poll(&p, 1, remaining_ms(deadline)); });
  return n <= 0 ? n : p.revents;
}

result<void> send_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const auto n = posix_call([&] { return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL); });
    if (n < 0)
      return failure(last_system_error());
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return success();
}

/// Reads one '\n'-terminated line of at most NAME_MAX bytes.
result<std::string> read_line(int fd, clock::time_point deadline) {
  std::string line;
  for (;;) {
    const int revents = wait_for(fd, POLLIN, deadline);
    if (revents < 0)
      return failure(last_system_error());
    if (revents == 0)
      return failure(make_error_code(error::timed_out));
    char buffer[64];
    const auto n = posix_call([&] { return ::recv(fd, buffer, sizeof buffer, 0); });
    if (n < 0)
      return failure(last_system_error());
    if (n == 0)
      return failure(make_error_code(error::connection_failed));
    line.append(buffer, static_cast<std::size_t>(n));
    if (const auto end = line.find('\n'); end != std::string::npos) {
      // The creator sends the line and nothing else.
      if (end + 1 != line.size())
        return failure(make_error_code(error::malformed_packet));
      line.resize(end);
      return line;
    }
    if (line.size() > NAME_MAX)
      return failure(make_error_code(error::malformed_packet));
  }
}

} // namespace

// -- link_listener ------------------------------------------------------------

link_listener::link_listener(link_listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

link_listener& link_listener::operator=(link_listener&& other) noexcept {
  if (this != &other) {
    unique_fd{fd_}.reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

link_listener::~link_listener() {
  unique_fd{fd_}.reset();
}

result<link_listener> link_listener::listen(std::string_view rendezvous_name) {
  if (!valid_rendezvous_name(rendezvous_name))
    return failure(std::make_error_code(std::errc::invalid_argument));
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd.valid())
    return failure(last_system_error());
  const auto [address, length] = address_of(rendezvous_name);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::listen(fd.get(), 1) != 0)
    return failure(last_system_error());
  return link_listener{fd.release()};
}

result<std::unique_ptr<link>> link_listener::accept(const link_config& config,
                                                    link_handlers handlers,
                                                    clock::time_point deadline) {
  const int revents = wait_for(fd_, POLLIN, deadline);
  if (revents < 0)
    return failure(last_system_error());
  if (revents == 0)
    return failure(make_error_code(error::timed_out));
  unique_fd connection{posix_call([&] { return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC); })};
  if (!connection.valid())
    return failure(last_system_error());
  auto created = link::create(config, std::move(handlers), connection.get());
  if (!created)
    return failure(created.error());
  // The link holds its own duplicate of the connection; ours closes on
  // return. If the peer never reads the name, its end hangs up and the
  // link's liveness thread removes the segment.
  if (auto sent = send_all(connection.get(), created.value()->name() + "\n"); !sent)
    return failure(sent.error());
  return created;
}

// -- connect_link -------------------------------------------------------------

result<std::unique_ptr<link>> connect_link(std::string_view rendezvous_name,
                                           const link_config& config, link_handlers handlers,
                                           clock::time_point deadline) {
  if (!valid_rendezvous_name(rendezvous_name))
    return failure(std::make_error_code(std::errc::invalid_argument));
  const auto [address, length] = address_of(rendezvous_name);
  unique_fd fd;
  for (;;) {
    fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
      return failure(last_system_error());
    if (posix_call([&] {
          return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length);
        }) == 0)
      break;
    // Nobody listens yet (or the backlog is full): try again shortly.
    if (errno != ECONNREFUSED && errno != EAGAIN)
      return failure(last_system_error());
    if (clock::now() >= deadline)
      return failure(make_error_code(error::timed_out));
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  auto name = read_line(fd.get(), deadline);
  if (!name) {
    // The creator may have died between creating the segment and sending its
    // name: then nobody else knows the name, so remove what it left.
    if (name.error() == error::connection_failed) {
      ucred peer{};
      socklen_t size = sizeof peer;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0)
        segment::remove_left_by(peer.pid);
    }
    return failure(name.error());
  }
  if (!segment::valid_name(name.value()))
    return failure(make_error_code(error::malformed_packet));
  return link::open(name.value(), config, std::move(handlers), fd.get());
}

} // namespace grainflow::shm
