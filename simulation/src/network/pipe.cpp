#include "pipe.hpp"

#include "fabric.hpp"

#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/sim_random.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"
#include "grainflow/transport/handshake.hpp"
#include "grainflow/transport/packet.hpp"

#include <algorithm>

namespace grainflow::sim::detail {

namespace {

// Probabilities of the buggify sites of a pipe, when active.
constexpr double partial_write_probability = 0.3;
constexpr double bit_flip_probability = 0.005;

bool is_data(const segment& s) noexcept {
  return s.kind == segment_kind::data;
}

/// For the trace: the hello a chunk starts with, if it does.
std::string hello_in(std::span<const std::byte> bytes) {
  auto packet = parse_packet(bytes, bytes.size());
  if (!packet || packet.value().token != well_known_token(well_known::connection_handshake))
    return {};
  auto hello = decode_handshake(packet.value().payload);
  if (!hello)
    return {};
  return " (hello: incarnation " + hello.value().incarnation.to_string() + ", session " +
         hello.value().session_key.to_string() + ", last received " +
         std::to_string(hello.value().last_received_seq) + ")";
}

} // namespace

pipe::pipe(fabric& net, std::uint64_t id, pipe_end dialer, pipe_end acceptor)
    : net_(net)
    , id_(id)
    , ends_{std::move(dialer), std::move(acceptor)} {}

bool pipe::finished() const noexcept {
  auto done = [](const pipe_end& e) { return e.released || e.ended; };
  return done(ends_[0]) && done(ends_[1]);
}

// -- the owner of one end ------------------------------------------------------

void pipe::start(int side, data_handler on_data, closed_handler on_closed) {
  auto& e = ends_[side];
  if (e.started || e.released)
    return;
  e.started = true;
  e.on_data = std::move(on_data);
  e.on_closed = std::move(on_closed);
  // What arrived before start, and an end that came before it, are handed
  // over soon — never inside this call.
  if (!e.early.empty() || e.ended)
    net_.schedule(e.owner, net_.scheduler.now(), "early",
                  [self = shared_from_this(), side] { self->flush_early(side); });
}

std::size_t pipe::write(int side, std::span<const std::byte> bytes) {
  auto& tx = ends_[side];
  if (tx.released || tx.ended || (tx.finished_sending && !tx.blackholed))
    return 0;
  if (bytes.empty())
    return pending(side);
  auto& rx = other(side);
  const auto now = net_.scheduler.now();
  const auto depart =
      std::max(now, tx.last_departure) + net_.transfer_time(tx.owner, rx.owner, bytes.size());
  tx.last_departure = depart;
  tx.departures.emplace_back(depart, bytes.size());
  tx.pending_bytes += bytes.size();
  if (!tx.blackholed) {
    // A partial write: the bytes arrive in pieces, each its own read.
    std::size_t pieces = 1;
    if (bytes.size() > 1 && net_.bug.fires("net.partial_write", partial_write_probability)) {
      pieces = std::min<std::size_t>(bytes.size(), 2 + net_.random.below(3));
      ++net_.stats.partial_writes;
    }
    std::size_t offset = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      const std::size_t left = bytes.size() - offset;
      const std::size_t later = pieces - i - 1;
      const std::size_t size = later == 0 ? left : 1 + net_.random.below(left - later);
      const auto arrive = std::max(depart + net_.travel_time(tx.owner, rx.owner), tx.last_arrival);
      tx.last_arrival = arrive;
      auto piece = bytes.subspan(offset, size);
      tx.in_flight.push_back(
          segment{arrive, segment_kind::data, std::vector<std::byte>{piece.begin(), piece.end()}});
      offset += size;
    }
    if (!tx.pump_armed)
      arm_pump(side, tx.in_flight.front().arrive);
  }
  const auto left = pending(side);
  if (left > 0) {
    tx.drain_armed = true;
    net_.schedule(tx.owner, depart, "drain",
                  [self = shared_from_this(), side] { self->drain_check(side); });
  }
  return left;
}

std::size_t pipe::pending(int side) {
  auto& tx = ends_[side];
  const auto now = net_.scheduler.now();
  while (!tx.departures.empty() && tx.departures.front().first <= now) {
    tx.pending_bytes -= tx.departures.front().second;
    tx.departures.pop_front();
  }
  if (tx.released || tx.ended)
    return 0;
  return tx.pending_bytes;
}

void pipe::set_drained(int side, unique_function<void()> callback) {
  auto& e = ends_[side];
  if (!e.released && !e.ended)
    e.on_drained = std::move(callback);
}

void pipe::close(int side) {
  auto& e = ends_[side];
  if (e.released)
    return;
  note(side, "closed by its owner");
  release(side);
  if (!e.ended)
    send_end(side, segment_kind::fin);
}

void pipe::abort(int side) {
  auto& e = ends_[side];
  if (e.aborted)
    return;
  e.aborted = true;
  note(side, "aborted by its owner");
  release(side);
  if (e.ended)
    return;
  // A graceful close still on its way becomes a reset.
  drop_outgoing(side);
  e.in_flight.clear();
  e.finished_sending = false;
  send_end(side, segment_kind::rst);
}

// -- the network ---------------------------------------------------------------

void pipe::sever(sever_mode how) {
  note(0, how == sever_mode::reset_both ? "severed: RST both ways"
          : how == sever_mode::fin_both ? "severed: FIN both ways"
                                        : "severed: half-open");
  switch (how) {
  case sever_mode::reset_both:
    for (int side : {0, 1})
      if (!ends_[side].released && !ends_[side].ended) {
        drop_outgoing(side);
        send_end(side, segment_kind::rst);
      }
    break;
  case sever_mode::fin_both:
    for (int side : {0, 1})
      if (!ends_[side].released && !ends_[side].ended)
        send_end(side, segment_kind::fin);
    break;
  case sever_mode::half_open: {
    // The victim learns at once; the survivor is left talking into the void.
    const int victim = static_cast<int>(net_.random.below(2));
    const int survivor = 1 - victim;
    drop_outgoing(victim);
    ends_[victim].finished_sending = true;
    auto& s = ends_[survivor];
    drop_outgoing(survivor);
    const auto arrive = net_.scheduler.now() + net_.travel_time(s.owner, ends_[victim].owner);
    s.last_arrival = std::max(s.last_arrival, arrive);
    s.in_flight.push_back(segment{s.last_arrival, segment_kind::rst, {}});
    if (!s.pump_armed)
      arm_pump(survivor, s.in_flight.front().arrive);
    s.blackholed = true;
    break;
  }
  }
}

void pipe::kill_end(int side, segment_kind farewell, bool vanish) {
  note(side, vanish                          ? "its process lost power"
             : farewell == segment_kind::fin ? "its process crashed (FIN)"
                                             : "its process crashed (RST)");
  auto& dead = ends_[side];
  release(side);
  dead.aborted = true;
  if (vanish) {
    // Power lost: nothing more of it reaches the survivor, and what the
    // survivor sends vanishes.
    dead.in_flight.clear();
    dead.finished_sending = true;
    auto& survivor = other(side);
    if (!survivor.released && !survivor.ended) {
      drop_outgoing(1 - side);
      survivor.blackholed = true;
    }
    return;
  }
  if (dead.ended || dead.finished_sending)
    return; // already over, or its FIN is on its way
  if (farewell == segment_kind::rst)
    drop_outgoing(side);
  send_end(side, farewell);
}

void pipe::reset_survivor_of(int dead_side) {
  auto& dead = ends_[dead_side];
  auto& survivor = other(dead_side);
  if (!dead.released || survivor.released || survivor.ended)
    return;
  // The survivor's next segment reaches the rebooted kernel, which answers
  // with a reset.
  dead.in_flight.clear();
  const auto arrive = net_.scheduler.now() + net_.travel_time(survivor.owner, dead.owner) +
                      net_.travel_time(dead.owner, survivor.owner);
  dead.last_arrival = std::max(dead.last_arrival, arrive);
  dead.in_flight.push_back(segment{dead.last_arrival, segment_kind::rst, {}});
  if (!dead.pump_armed)
    arm_pump(dead_side, dead.in_flight.front().arrive);
}

// -- private -------------------------------------------------------------------

void pipe::send_end(int side, segment_kind kind) {
  auto& tx = ends_[side];
  if (tx.finished_sending)
    return;
  tx.finished_sending = true;
  if (tx.blackholed)
    return;
  const auto now = net_.scheduler.now();
  // A FIN follows the bytes still leaving; an RST goes at once.
  const auto leaves = kind == segment_kind::fin ? std::max(now, tx.last_departure) : now;
  const auto arrive =
      std::max(leaves + net_.travel_time(tx.owner, other(side).owner), tx.last_arrival);
  tx.last_arrival = arrive;
  tx.in_flight.push_back(segment{arrive, kind, {}});
  if (!tx.pump_armed)
    arm_pump(side, tx.in_flight.front().arrive);
}

void pipe::drop_outgoing(int side) noexcept {
  auto& tx = ends_[side];
  // Ends of the stream already on their way still arrive: only bytes go.
  std::erase_if(tx.in_flight, is_data);
  tx.departures.clear();
  tx.pending_bytes = 0;
  tx.drain_armed = false;
}

void pipe::arm_pump(int side, time_point at) {
  ends_[side].pump_armed = true;
  net_.schedule(other(side).owner, at, "deliver",
                [self = shared_from_this(), side] { self->pump(side); });
}

void pipe::pump(int side) {
  auto& tx = ends_[side];
  tx.pump_armed = false;
  if (tx.in_flight.empty())
    return;
  auto& rx = other(side);
  if (rx.released) {
    tx.in_flight.clear(); // to a closed or dead socket: gone
    return;
  }
  const auto now = net_.scheduler.now();
  if (auto blocked = net_.blocked_until(tx.owner, rx.owner); blocked > now) {
    arm_pump(side, blocked);
    return;
  }
  if (tx.in_flight.front().arrive > now) {
    arm_pump(side, tx.in_flight.front().arrive);
    return;
  }
  auto head = std::move(tx.in_flight.front());
  tx.in_flight.pop_front();
  if (head.kind == segment_kind::data) {
    // One read takes whatever else has arrived too, up to the read size.
    auto bytes = std::move(head.bytes);
    while (!tx.in_flight.empty()) {
      auto& next = tx.in_flight.front();
      if (!is_data(next) || next.arrive > now ||
          bytes.size() + next.bytes.size() > net_.options.read_size)
        break;
      bytes.insert(bytes.end(), next.bytes.begin(), next.bytes.end());
      tx.in_flight.pop_front();
    }
    if (!bytes.empty() && net_.bug.fires("net.bit_flip", bit_flip_probability)) {
      note(side, "flips a bit");
      const auto bit = net_.random.below(bytes.size() * 8);
      bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
      ++net_.stats.bit_flips;
    }
    if (net_.log.logging())
      net_.log.note(net_.scheduler.now(), "pipe %llu: %zu bytes to p%u%s",
                    static_cast<unsigned long long>(id_), bytes.size(), rx.owner,
                    hello_in(bytes).c_str());
    deliver(1 - side, std::move(bytes));
  } else {
    note(1 - side, head.kind == segment_kind::fin ? "receives FIN" : "receives RST");
    end_stream(1 - side, head.kind == segment_kind::fin
                             ? std::error_code{}
                             : std::make_error_code(std::errc::connection_reset));
  }
  // The callbacks may have changed anything; this pipe lives on (the event
  // holds it).
  auto& again = ends_[side];
  if (!again.in_flight.empty() && !again.pump_armed)
    arm_pump(side, std::max(now, again.in_flight.front().arrive));
}

void pipe::deliver(int side, std::vector<std::byte> bytes) {
  auto& rx = ends_[side];
  if (rx.released || rx.ended)
    return;
  ++net_.stats.deliveries;
  net_.stats.bytes_delivered += bytes.size();
  net_.log.mix(bytes);
  if (!rx.started || !rx.early.empty()) {
    // Not started, or earlier bytes still wait for their hand-over: keep order.
    rx.early.insert(rx.early.end(), bytes.begin(), bytes.end());
    return;
  }
  invoke_data(side, bytes);
}

void pipe::invoke_data(int side, std::span<const std::byte> bytes) {
  // Moved out while it runs: it may close or destroy its own connection,
  // which must not destroy the callback under its feet.
  auto callback = std::move(ends_[side].on_data);
  if (!callback)
    return;
  callback(bytes);
  auto& e = ends_[side];
  if (!e.released && !e.ended && !e.on_data)
    e.on_data = std::move(callback);
}

void pipe::flush_early(int side) {
  auto& e = ends_[side];
  if (e.released)
    return;
  if (!e.early.empty()) {
    auto bytes = std::move(e.early);
    e.early.clear();
    invoke_data(side, bytes);
  }
  auto& again = ends_[side];
  if (!again.released && again.ended && again.early.empty())
    report_end(side);
}

void pipe::end_stream(int side, std::error_code reason) {
  auto& rx = ends_[side];
  if (rx.released || rx.ended)
    return;
  rx.ended = true;
  rx.end_reason = reason;
  // No half-open streams: what this end still had to send is lost.
  drop_outgoing(side);
  rx.finished_sending = true;
  if (!rx.started || !rx.early.empty())
    return; // reported once the early bytes are handed over
  report_end(side);
}

void pipe::report_end(int side) {
  auto& e = ends_[side];
  auto callback = std::move(e.on_closed);
  e.on_data = nullptr;
  e.on_drained = nullptr;
  if (callback)
    callback(e.end_reason);
}

void pipe::drain_check(int side) {
  auto& tx = ends_[side];
  if (tx.released || tx.ended || !tx.drain_armed || pending(side) != 0)
    return;
  tx.drain_armed = false;
  auto callback = std::move(tx.on_drained);
  if (!callback)
    return;
  callback();
  auto& e = ends_[side];
  if (!e.released && !e.ended && !e.on_drained)
    e.on_drained = std::move(callback);
}

void pipe::note(int side, const char* what) const noexcept {
  const auto& e = ends_[side];
  net_.log.note(net_.scheduler.now(), "pipe %llu %s (p%u) -> %s (p%u): end %d %s",
                static_cast<unsigned long long>(id_), e.local.to_string().c_str(), e.owner,
                e.remote.to_string().c_str(), ends_[1 - side].owner, side, what);
}

void pipe::release(int side) noexcept {
  auto& e = ends_[side];
  e.released = true;
  e.on_data = nullptr;
  e.on_closed = nullptr;
  e.on_drained = nullptr;
  e.early.clear();
  e.drain_armed = false;
}

// -- sim_connection ------------------------------------------------------------

sim_connection::~sim_connection() {
  pipe_->close(side_);
}

network_address sim_connection::remote_address() const noexcept {
  return pipe_->end(side_).remote;
}

network_address sim_connection::local_address() const noexcept {
  return pipe_->end(side_).local;
}

std::size_t sim_connection::pending_write_bytes() const noexcept {
  return pipe_->pending(side_);
}

void sim_connection::start(data_handler on_data, closed_handler on_closed) {
  pipe_->start(side_, std::move(on_data), std::move(on_closed));
}

std::size_t sim_connection::write(std::span<const std::byte> bytes) {
  return pipe_->write(side_, bytes);
}

void sim_connection::on_drained(unique_function<void()> callback) {
  pipe_->set_drained(side_, std::move(callback));
}

void sim_connection::close() {
  pipe_->close(side_);
}

void sim_connection::abort() {
  pipe_->abort(side_);
}

} // namespace grainflow::sim::detail
