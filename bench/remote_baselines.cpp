#include "remote_baselines.hpp"

#include "child_process.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/io/remote_actor.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>

namespace grainflow::bench {

namespace {

using namespace std::chrono_literals;

/// How long a server child may take to report its port.
constexpr auto server_start_limit = 10s;

/// How long a client waits without any reply before it declares the run
/// failed, rather than hanging the benchmark on a stuck server.
constexpr auto stall_limit = 10s;

std::error_code last_error() noexcept {
  return {errno, std::system_category()};
}

std::error_code make_error(std::errc code) noexcept {
  return std::make_error_code(code);
}

/// The sum both servers compute, with the wrap-around of two's complement
/// (signed overflow would be undefined).
std::int32_t wrapping_sum(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

/// Reads the `port=<n>` line a server child reports once it listens.
result<std::uint16_t> read_port(child_process& server) {
  auto line = server.read_line(server_start_limit);
  if (!line)
    return failure(line.error());
  std::string_view text = line.value();
  constexpr std::string_view prefix = "port=";
  std::uint16_t port = 0;
  if (!text.starts_with(prefix))
    return failure(make_error(std::errc::protocol_error));
  text.remove_prefix(prefix.size());
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size() || port == 0)
    return failure(make_error(std::errc::protocol_error));
  return port;
}

// -- raw-tcp: sockets ---------------------------------------------------------

/// Owns a file descriptor.
class unique_fd {
public:
  explicit unique_fd(int fd = -1) noexcept
      : fd_{fd} {}
  unique_fd(unique_fd&& other) noexcept
      : fd_{std::exchange(other.fd_, -1)} {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~unique_fd() {
    // Linux releases the descriptor even when close reports an error, and a
    // socket has no buffered data that could be lost: nothing to act on.
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const noexcept { return fd_; }

private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) noexcept {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

result<unique_fd> tcp_socket() {
  unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (fd.get() < 0)
    return failure(last_error());
  return fd;
}

/// Without TCP_NODELAY, Nagle's algorithm holds back a small request until
/// the previous one is acknowledged: the benchmark would measure delayed ACKs.
result<void> set_nodelay(int fd) {
  int on = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
    return failure(last_error());
  return success();
}

result<void> send_all(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    // MSG_NOSIGNAL: a peer that went away is an error to report, not SIGPIPE.
    auto sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno != EINTR)
      return failure(last_error());
    if (sent > 0) {
      data += sent;
      size -= static_cast<std::size_t>(sent);
    }
  }
  return success();
}

/// Receives what is available (at least one byte); 0 means the peer closed.
result<std::size_t> receive_some(int fd, std::byte* data, std::size_t size) {
  for (;;) {
    auto got = ::recv(fd, data, size, 0);
    if (got >= 0)
      return static_cast<std::size_t>(got);
    if (errno == EAGAIN || errno == EWOULDBLOCK) // SO_RCVTIMEO expired
      return failure(make_error(std::errc::timed_out));
    if (errno != EINTR)
      return failure(last_error());
  }
}

/// What fills a message beyond its integers, so that it has its full size.
constexpr std::byte filler{0xa5};

// -- raw-tcp: server ----------------------------------------------------------

/// Answers requests until the client closes. Reads whatever has arrived and
/// answers every complete request in it with one send: with a burst of 64
/// requests in flight that is what a blocking server does best.
result<void> serve_raw_connection(int fd, raw_tcp_sizes sizes) {
  std::vector<std::byte> in(std::max<std::size_t>(64 * 1024, sizes.request_bytes));
  std::vector<std::byte> out(in.size() / sizes.request_bytes * sizes.reply_bytes, filler);
  std::size_t have = 0;
  for (;;) {
    auto got = receive_some(fd, in.data() + have, in.size() - have);
    if (!got)
      return failure(got.error());
    if (got.value() == 0 && have > 0) // The client closed in the middle of a request.
      return failure(make_error(std::errc::bad_message));
    if (got.value() == 0)
      return success();
    have += got.value();
    auto count = have / sizes.request_bytes;
    for (std::size_t i = 0; i < count; ++i) {
      std::int32_t operands[2];
      std::memcpy(operands, in.data() + i * sizes.request_bytes, sizeof operands);
      auto sum = wrapping_sum(operands[0], operands[1]);
      std::memcpy(out.data() + i * sizes.reply_bytes, &sum, sizeof sum);
    }
    if (auto sent = send_all(fd, out.data(), count * sizes.reply_bytes); !sent)
      return sent;
    have -= count * sizes.request_bytes;
    std::memmove(in.data(), in.data() + count * sizes.request_bytes, have);
  }
}

/// A blocked accept or recv has nothing to clean up that the kernel does not,
/// so SIGTERM ends the server at once, as a clean exit.
extern "C" void exit_on_sigterm(int) {
  ::_exit(EXIT_SUCCESS);
}

/// Listens on 127.0.0.1, reports the port to `report_fd`, then serves one
/// connection after another. Returns only on failure.
result<void> serve_raw_tcp(raw_tcp_sizes sizes, int report_fd) {
  struct sigaction on_term {};
  on_term.sa_handler = exit_on_sigterm;
  if (::sigaction(SIGTERM, &on_term, nullptr) != 0)
    return failure(last_error());
  auto listener = tcp_socket();
  if (!listener)
    return failure(listener.error());
  int fd = listener.value().get();
  auto address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return failure(last_error());
  if (auto reported =
          report_to_parent(report_fd, "port=" + std::to_string(ntohs(address.sin_port)));
      !reported)
    return reported;
  for (;;) {
    unique_fd connection{::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)};
    if (connection.get() < 0) {
      if (errno == EINTR)
        continue;
      return failure(last_error());
    }
    auto served = set_nodelay(connection.get());
    if (served)
      served = serve_raw_connection(connection.get(), sizes);
    // A failed client does not end the server: the client reports its own
    // failure, and the next measurement gets a fresh connection.
    if (!served)
      std::fprintf(stderr, "raw-tcp server: connection failed: %s\n",
                   served.error().message().c_str());
  }
}

// -- raw-tcp: client ----------------------------------------------------------

result<unique_fd> connect_loopback(std::uint16_t port) {
  auto fd = tcp_socket();
  if (!fd)
    return fd;
  auto socket = fd.value().get();
  if (auto nodelay = set_nodelay(socket); !nodelay)
    return failure(nodelay.error());
  timeval limit{std::chrono::seconds{stall_limit}.count(), 0};
  auto address = loopback(port);
  if (::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
      ::connect(socket, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return failure(last_error());
  return fd;
}

/// `n` round trips with `depth` outstanding: a burst of `depth` requests in
/// one send, then for every batch of replies that arrives, as many new
/// requests in one send. At depth 1 that is one send and one recv per round
/// trip on each side. Request i carries (i, 1); its reply must carry i + 1.
result<measurement> measure_raw_tcp(std::uint16_t port, raw_tcp_sizes sizes, std::uint64_t n,
                                    int depth) {
  auto connected = connect_loopback(port);
  if (!connected)
    return failure(connected.error());
  auto fd = connected.value().get();
  auto outstanding = static_cast<std::size_t>(depth);
  std::vector<std::byte> out(outstanding * sizes.request_bytes, filler);
  // Never more than `depth` replies are in flight, so this never overflows.
  std::vector<std::byte> in(outstanding * sizes.reply_bytes);
  std::uint64_t issued = 0;
  std::uint64_t answered = 0;
  auto issue = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i, ++issued) {
      std::int32_t operands[2] = {static_cast<std::int32_t>(issued), 1};
      std::memcpy(out.data() + i * sizes.request_bytes, operands, sizeof operands);
    }
    return send_all(fd, out.data(), count * sizes.request_bytes);
  };
  auto start = std::chrono::steady_clock::now();
  if (auto sent = issue(static_cast<std::size_t>(std::min<std::uint64_t>(outstanding, n))); !sent)
    return failure(sent.error());
  std::size_t have = 0;
  while (answered < n) {
    auto got = receive_some(fd, in.data() + have, in.size() - have);
    if (!got)
      return failure(got.error());
    if (got.value() == 0)
      return failure(make_error(std::errc::connection_aborted));
    have += got.value();
    auto count = have / sizes.reply_bytes;
    for (std::size_t i = 0; i < count; ++i, ++answered) {
      std::int32_t sum = 0;
      std::memcpy(&sum, in.data() + i * sizes.reply_bytes, sizeof sum);
      if (sum != wrapping_sum(static_cast<std::int32_t>(answered), 1))
        return failure(make_error(std::errc::bad_message));
    }
    have -= count * sizes.reply_bytes;
    std::memmove(in.data(), in.data() + count * sizes.reply_bytes, have);
    auto more = static_cast<std::size_t>(std::min<std::uint64_t>(count, n - issued));
    if (auto sent = issue(more); !sent)
      return failure(sent.error());
  }
  return measurement{"raw-tcp", depth, n, seconds_since(start)};
}

// -- caf-remote: server -------------------------------------------------------

caf::behavior caf_adder(caf::event_based_actor*) {
  return {[](std::int32_t a, std::int32_t b) { return wrapping_sum(a, b); }};
}

/// Publishes an adder on 127.0.0.1, reports the port, and serves until
/// SIGTERM, then shuts the actor system down in order.
result<void> serve_caf_remote(int report_fd) {
  // Blocked before the actor system starts its threads, which inherit the
  // mask: SIGTERM then reaches only the sigwait below.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  if (auto rc = ::pthread_sigmask(SIG_BLOCK, &term, nullptr); rc != 0)
    return failure(std::error_code{rc, std::system_category()});
  caf::actor_system_config config;
  config.load<caf::io::middleman>();
  caf::actor_system system{config};
  auto adder = system.spawn(caf_adder);
  auto port = caf::io::publish(adder, 0, "127.0.0.1");
  result<void> reported = failure(make_error(std::errc::address_not_available));
  if (port)
    reported = report_to_parent(report_fd, "port=" + std::to_string(*port));
  else
    std::fprintf(stderr, "caf-remote server: publish: %s\n", system.render(port.error()).c_str());
  int signal = 0;
  auto waited = reported ? ::sigwait(&term, &signal) : 0;
  anon_send_exit(adder, caf::exit_reason::user_shutdown);
  if (waited != 0)
    return failure(std::error_code{waited, std::system_category()});
  return reported;
}

// -- caf-remote: client -------------------------------------------------------

using stall_check_atom = caf::atom_constant<caf::atom("stallcheck")>;

/// One caf-remote run, filled in by the client actor; read after it ended.
struct caf_run {
  std::uint64_t n = 0;
  std::error_code error;
};

struct caf_client_state {
  caf::actor target;
  caf_run* run = nullptr;
  std::uint64_t issued = 0;
  std::uint64_t answered = 0;
  std::uint64_t answered_at_last_check = 0;
};

using caf_client_actor = caf::stateful_actor<caf_client_state>;

void fail(caf_client_actor* self, std::errc code, const std::string& what) {
  std::fprintf(stderr, "caf-remote client: %s\n", what.c_str());
  self->state.run->error = make_error(code);
  self->quit();
}

void caf_issue(caf_client_actor* self) {
  auto& st = self->state;
  auto i = static_cast<std::int32_t>(st.issued++);
  // caf::infinite: a finite timeout schedules a timer per request, which
  // would make CAF look slower than it can be. Stalls are caught by the
  // periodic stall check instead.
  self->request(st.target, caf::infinite, i, std::int32_t{1})
      .then(
          [self, i](std::int32_t sum) {
            if (sum != wrapping_sum(i, 1))
              return fail(self, std::errc::bad_message, "wrong sum");
            auto& st = self->state;
            if (++st.answered == st.run->n)
              self->quit();
            else if (st.issued < st.run->n)
              caf_issue(self);
          },
          [self](caf::error& error) {
            fail(self, std::errc::connection_aborted,
                 "request failed: " + self->system().render(error));
          });
}

caf::behavior caf_client(caf_client_actor* self, caf::actor target, caf_run* run, int depth) {
  self->state.target = target;
  self->state.run = run;
  // A lost connection kills the proxy; without this, requests without a
  // timeout would wait forever.
  self->monitor(target);
  self->set_down_handler([self](caf::down_msg& down) {
    fail(self, std::errc::connection_aborted,
         "server actor down: " + self->system().render(down.reason));
  });
  for (int i = 0; i < depth && static_cast<std::uint64_t>(i) < run->n; ++i)
    caf_issue(self);
  self->delayed_send(self, stall_limit, stall_check_atom::value);
  return {[self](stall_check_atom) {
    auto& st = self->state;
    if (st.answered == st.answered_at_last_check)
      return fail(self, std::errc::timed_out, "no reply within the stall limit");
    st.answered_at_last_check = st.answered;
    self->delayed_send(self, stall_limit, stall_check_atom::value);
  }};
}

result<measurement> measure_caf_remote(caf::actor_system& system, const caf::actor& target,
                                       std::uint64_t n, int depth) {
  caf_run run{n, {}};
  caf::scoped_actor waiter{system};
  auto start = std::chrono::steady_clock::now();
  auto client = system.spawn(caf_client, target, &run, depth);
  waiter->wait_for(client);
  auto seconds = seconds_since(start);
  if (run.error)
    return failure(run.error);
  return measurement{"caf-remote", depth, n, seconds};
}

// -- both: the parent's side --------------------------------------------------

class raw_tcp_baseline final : public remote_contender {
public:
  raw_tcp_baseline(child_process server, std::uint16_t port, raw_tcp_sizes sizes)
      : remote_contender{std::move(server)}
      , port_{port}
      , sizes_{sizes} {}

  const char* name() const noexcept override { return "raw-tcp"; }
  result<measurement> measure(std::uint64_t n, int depth) override {
    return measure_raw_tcp(port_, sizes_, n, depth);
  }

private:
  std::uint16_t port_;
  raw_tcp_sizes sizes_;
};

class caf_remote_baseline final : public remote_contender {
public:
  explicit caf_remote_baseline(child_process server)
      : remote_contender{std::move(server)} {
    config_.load<caf::io::middleman>();
    system_ = std::make_unique<caf::actor_system>(config_);
  }
  ~caf_remote_baseline() override { close_client(); }

  const char* name() const noexcept override { return "caf-remote"; }
  result<measurement> measure(std::uint64_t n, int depth) override {
    return measure_caf_remote(*system_, target_, n, depth);
  }

  /// Connects to the server child's published actor.
  result<void> connect(std::uint16_t port) {
    auto target = caf::io::remote_actor(*system_, "127.0.0.1", port);
    if (!target) {
      std::fprintf(stderr, "caf-remote client: remote_actor: %s\n",
                   system_->render(target.error()).c_str());
      return failure(make_error(std::errc::connection_refused));
    }
    target_ = std::move(*target);
    return success();
  }

protected:
  /// The proxy must go before the actor system that holds it.
  void close_client() override {
    target_ = nullptr;
    system_.reset();
  }

private:
  caf::actor_system_config config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor target_;
};

result<std::unique_ptr<remote_contender>> start_raw_tcp(raw_tcp_sizes sizes) {
  if (sizes.request_bytes < 2 * sizeof(std::int32_t) || sizes.reply_bytes < sizeof(std::int32_t))
    return failure(make_error(std::errc::invalid_argument));
  auto server =
      child_process::spawn_self({"--serve", "raw-tcp", std::to_string(sizes.request_bytes),
                                 std::to_string(sizes.reply_bytes)});
  if (!server)
    return failure(server.error());
  auto port = read_port(server.value());
  if (!port)
    return failure(port.error());
  return std::make_unique<raw_tcp_baseline>(std::move(server.value()), port.value(), sizes);
}

result<std::unique_ptr<remote_contender>> start_caf_remote() {
  auto server = child_process::spawn_self({"--serve", "caf-remote"});
  if (!server)
    return failure(server.error());
  auto port = read_port(server.value());
  if (!port)
    return failure(port.error());
  auto created = std::make_unique<caf_remote_baseline>(std::move(server.value()));
  if (auto connected = created->connect(port.value()); !connected)
    return failure(connected.error());
  return std::unique_ptr<remote_contender>{std::move(created)};
}

/// Parses a whole argument as a number.
template <class T>
bool parse_number(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size();
}

} // namespace

remote_contenders start_remote_baselines(raw_tcp_sizes sizes) {
  remote_contenders started;
  std::pair<const char*, result<std::unique_ptr<remote_contender>>> starts[] = {
      {"raw-tcp", start_raw_tcp(sizes)}, {"caf-remote", start_caf_remote()}};
  for (auto& [name, start] : starts) {
    if (start)
      started.push_back(std::move(start.value()));
    else
      print_contender_error(name, 0, start.error());
  }
  return started;
}

bool serve_remote_baseline(int argc, char** argv) {
  if (argc < 3 || std::string_view{argv[1]} != "--serve")
    return false;
  std::string_view kind = argv[2];
  std::vector<std::string_view> args(argv + 3, argv + argc);
  result<void> served = success();
  if (kind == "raw-tcp") {
    raw_tcp_sizes sizes;
    auto fd = args.size() == 3 ? parse_report_fd(args[2]) : parse_report_fd("");
    if (!fd || !parse_number(args[0], sizes.request_bytes) ||
        !parse_number(args[1], sizes.reply_bytes) || sizes.request_bytes < 8 ||
        sizes.reply_bytes < 4) {
      std::fprintf(stderr,
                   "usage: %s --serve raw-tcp <request bytes >= 8> <reply bytes >= 4> "
                   "<report fd>\n",
                   argv[0]);
      std::exit(2);
    }
    served = serve_raw_tcp(sizes, fd.value());
  } else if (kind == "caf-remote") {
    auto fd = args.size() == 1 ? parse_report_fd(args[0]) : parse_report_fd("");
    if (!fd) {
      std::fprintf(stderr, "usage: %s --serve caf-remote <report fd>\n", argv[0]);
      std::exit(2);
    }
    served = serve_caf_remote(fd.value());
  } else {
    return false; // Another benchmark's server.
  }
  if (!served) {
    std::fprintf(stderr, "%s --serve %s: %s\n", argv[0], argv[2], served.error().message().c_str());
    std::exit(EXIT_FAILURE);
  }
  return true;
}

} // namespace grainflow::bench
