// The reliable session state machine. Invariants: reliable_session.spec.md.

#include "grainflow/transport/reliable_session.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <source_location>
#include <system_error>
#include <utility>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/planted_bug.hpp"

// GRAINFLOW_SESSION_CHECK(expr, inv): in debug builds, aborts with the source
// location and the invariant's name from reliable_session.spec.md when `expr`
// is false. Local to this file: a broken invariant here is a bug in this
// file, never something a peer can cause (peer input is validated and turned
// into errors before any state changes).
#ifdef NDEBUG
#define GRAINFLOW_SESSION_CHECK(expr, inv)                                                         \
  do {                                                                                             \
  } while (false)
#else
#define GRAINFLOW_SESSION_CHECK(expr, inv)                                                         \
  do {                                                                                             \
    if (!(expr))                                                                                   \
      ::grainflow::session_check_failed(#expr, inv, std::source_location::current());              \
  } while (false)
#endif

namespace grainflow {

namespace testing {

namespace {

// Relaxed: a test sets it before the sessions it targets run, on the thread
// that then runs them (the simulator's); nothing is published through it.
std::atomic<planted_bug> planted_now{planted_bug::none};

} // namespace

void plant_bug(planted_bug bug) noexcept {
  planted_now.store(bug, std::memory_order_relaxed);
}

planted_bug planted() noexcept {
  return planted_now.load(std::memory_order_relaxed);
}

} // namespace testing

namespace {

[[maybe_unused]] [[noreturn]] void session_check_failed(const char* expr, const char* inv,
                                                        std::source_location where) noexcept {
  std::fprintf(stderr, "%s:%u: %s: %s violated: `%s`\n", where.file_name(),
               static_cast<unsigned>(where.line()), where.function_name(), inv, expr);
  std::fflush(stderr);
  std::abort();
}

} // namespace

// -- constructors -------------------------------------------------------------

reliable_session::reliable_session(session_limits limits)
    : limits_(limits) {
  check_invariants();
}

reliable_session::reliable_session(uid key, session_limits limits)
    : key_(key)
    , limits_(limits) {
  GRAINFLOW_SESSION_CHECK(key.valid(), "precondition: a session key is never zero");
  check_invariants();
}

// -- properties ---------------------------------------------------------------

void reliable_session::set_key(uid key) noexcept {
  GRAINFLOW_SESSION_CHECK(key.valid() && (!key_.valid() || key_ == key),
                          "precondition: the key is set once, never to zero");
  key_ = key;
}

bool reliable_session::can_push(std::size_t bytes) const noexcept {
  // Written so that it cannot overflow: replay_bytes_ <= the bound.
  return bytes <= limits_.replay_buffer_bytes - replay_bytes_;
}

bool reliable_session::ack_pending() const noexcept {
  return connected_ && last_received_ > ack_sent_ && !has_writable();
}

// -- sending ------------------------------------------------------------------

result<std::uint64_t> reliable_session::push(std::vector<std::byte>&& inner_packet, bool request) {
  // Cheap framing checks always: a packet that is not one whole packet would
  // poison the session, since the peer rejects its frame on every replay.
  const std::size_t size = inner_packet.size();
  if (size < packet_header_size || detail::load_le32(inner_packet.data()) != size)
    return error::malformed_packet;
  GRAINFLOW_SESSION_CHECK(parse_packet(inner_packet, size).has_value(),
                          "precondition: the inner packet's checksum is valid");
  if (size > limits_.replay_buffer_bytes || limits_.max_packet_size < reliable_frame_overhead ||
      size > limits_.max_packet_size - reliable_frame_overhead)
    return error::packet_too_large;
  if (!can_push(size))
    return std::make_error_code(std::errc::no_buffer_space);
  const std::uint64_t seq = next_seq_++;
  replay_bytes_ += size;
  replay_.push_back(session_packet{std::move(inner_packet), request});
  GRAINFLOW_SESSION_CHECK(seq + 1 == next_seq_, "INV-SESSION-01");
  check_invariants();
  return seq;
}

std::vector<session_packet> reliable_session::take_unwritten() {
  std::vector<session_packet> out;
  while (next_seq_ - 1 > max_written_) {
    replay_bytes_ -= replay_.back().bytes.size();
    out.push_back(std::move(replay_.back()));
    replay_.pop_back();
    --next_seq_;
  }
  if (written_ >= next_seq_)
    written_ = next_seq_ - 1;
  std::reverse(out.begin(), out.end());
  check_invariants();
  return out;
}

std::size_t reliable_session::take_writable(std::vector<std::byte>& out, std::size_t max_bytes) {
  if (!connected_)
    return 0;
  std::size_t frames = 0;
  std::size_t appended = 0;
  while (written_ + 1 < next_seq_) {
    const std::uint64_t seq = written_ + 1;
    const session_packet& inner = replay_[seq - acked_ - 1];
    const std::size_t frame_size = inner.bytes.size() + reliable_frame_overhead;
    if (frames > 0 && frame_size > max_bytes - std::min(max_bytes, appended))
      break;
    append_reliable_frame(out, seq, last_received_, inner.bytes, inner.request);
    // A seq written before on an earlier connection is a replay.
    if (seq <= max_written_)
      ++retransmits_;
    else
      max_written_ = seq;
    written_ = seq;
    appended += frame_size;
    ++frames;
  }
  if (frames > 0)
    ack_sent_ = last_received_;
  check_invariants();
  return frames;
}

void reliable_session::append_ack(std::vector<std::byte>& out) {
  if (!connected_)
    return;
  append_ack_frame(out, last_received_);
  ack_sent_ = last_received_;
  check_invariants();
}

// -- receiving ----------------------------------------------------------------

result<std::optional<std::span<const std::byte>>>
reliable_session::on_reliable(const reliable_frame_view& frame) {
  // Validate everything before changing anything: on error the session must
  // be exactly as before, ready for the next connection.
  if (frame.seq > last_received_ + 1)
    return error::malformed_packet; // a gap: the peer skipped a packet
  if (frame.ack > max_written_)
    return error::malformed_packet; // acknowledges what we never wrote
  if (frame.ack > acked_)
    trim_to(frame.ack);
  if (frame.seq <= last_received_) {
    // A replay of something already delivered: the peer has not seen an ack
    // covering it (say its handshake raced ours), so owe it one. Without
    // this, a peer whose replay buffer is full of such packets would wait
    // for an ack that only new data would trigger.
    ack_sent_ = std::min(ack_sent_, frame.seq - 1);
    check_invariants();
    return std::optional<std::span<const std::byte>>{};
  }
  GRAINFLOW_SESSION_CHECK(frame.seq == last_received_ + 1, "INV-SESSION-06");
  last_received_ = frame.seq;
  check_invariants();
  return std::optional<std::span<const std::byte>>{frame.inner};
}

result<void> reliable_session::on_ack(std::uint64_t ack) {
  if (ack > max_written_)
    return error::malformed_packet;
  // An old ack (e.g. one overtaken by a handshake's last_received) says
  // nothing new; acked_ never moves backwards.
  if (ack > acked_)
    trim_to(ack);
  check_invariants();
  return success();
}

// -- connections --------------------------------------------------------------

void reliable_session::on_disconnect() noexcept {
  connected_ = false;
  // Written but unacknowledged packets may be lost with the connection:
  // rewind so the next connection writes them again.
  written_ = acked_;
  check_invariants();
}

result<void> reliable_session::on_resume(std::uint64_t peer_last_received) {
  if (peer_last_received > max_written_)
    return error::malformed_packet;
  if (peer_last_received > acked_)
    trim_to(peer_last_received);
  written_ = acked_;
  // TEST ONLY (planted_bug.hpp): the replay skips the first unacknowledged
  // packet that an earlier connection carried.
  if (testing::planted() == testing::planted_bug::replay_starts_one_late && written_ < max_written_)
    ++written_;
  connected_ = true;
  // Our handshake on this connection told the peer last_received_.
  ack_sent_ = last_received_;
  check_invariants();
  return success();
}

// -- private ------------------------------------------------------------------

void reliable_session::trim_to(std::uint64_t ack) noexcept {
  GRAINFLOW_SESSION_CHECK(ack > acked_ && ack <= max_written_, "INV-SESSION-05");
  while (acked_ < ack) {
    GRAINFLOW_SESSION_CHECK(!replay_.empty() && replay_bytes_ >= replay_.front().bytes.size(),
                            "INV-SESSION-02");
    replay_bytes_ -= replay_.front().bytes.size();
    replay_.pop_front();
    ++acked_;
  }
  // Acknowledged packets need no writing on this connection either.
  if (written_ < acked_)
    written_ = acked_;
}

void reliable_session::check_invariants() const noexcept {
  GRAINFLOW_SESSION_CHECK(next_seq_ >= 1, "INV-SESSION-01");
  GRAINFLOW_SESSION_CHECK(replay_.size() == next_seq_ - 1 - acked_, "INV-SESSION-02");
  GRAINFLOW_SESSION_CHECK(replay_bytes_ <= limits_.replay_buffer_bytes, "INV-SESSION-03");
  GRAINFLOW_SESSION_CHECK(replay_.empty() == (replay_bytes_ == 0), "INV-SESSION-03");
  GRAINFLOW_SESSION_CHECK(
      acked_ <= written_ && written_ <= max_written_ && max_written_ < next_seq_, "INV-SESSION-04");
  GRAINFLOW_SESSION_CHECK(connected_ || written_ == acked_, "INV-SESSION-04");
  GRAINFLOW_SESSION_CHECK(ack_sent_ <= last_received_, "INV-SESSION-07");
}

} // namespace grainflow
