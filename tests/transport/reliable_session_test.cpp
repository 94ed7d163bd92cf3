// Scenarios for the reliable session (delivery, duplicates, gaps, acks,
// backpressure, replay), then a model test: two sessions over a lossy,
// dropping, bit-flipping connection must deliver exactly once, in order.
// Tests name the invariants of reliable_session.spec.md they exercise; debug
// builds also check INV-SESSION-01..07 inside every call.

#include "grainflow/transport/reliable_session.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <system_error>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/handshake.hpp"
#include "grainflow/transport/packet.hpp"
#include "grainflow/transport/packet_decoder.hpp"
#include "grainflow/transport/session_frame.hpp"

namespace grainflow {
namespace {

const uid app_token{.first = 0x42u, .second = 0x43u};
const uid key_ab{.first = 0xA0u, .second = 0xB0u};

// An inner packet whose payload starts with `id` (u64), padded to `extra`
// more bytes, so the receiver can tell which packet arrived.
std::vector<std::byte> make_inner(std::uint64_t id, std::size_t extra = 0) {
  std::vector<std::byte> payload(8 + extra, std::byte{0x5A});
  detail::store_le64(payload.data(), id);
  std::vector<std::byte> out;
  append_packet(out, app_token, payload);
  return out;
}

std::uint64_t id_of(std::span<const std::byte> inner) {
  auto view = parse_packet(inner);
  EXPECT_TRUE(view) << view.error().message();
  EXPECT_EQ(view.value().token, app_token);
  return detail::load_le64(view.value().payload.data());
}

// What a receiver saw in a batch of bytes: delivered inner ids, and how many
// frames were duplicates or acks.
struct received {
  std::vector<std::uint64_t> ids;
  std::size_t duplicates = 0;
  std::size_t acks = 0;
};

// Hands one session packet to `to`, as a Peer does, and records the outcome
// in `seen`. Between correct peers no call may fail.
void dispatch(reliable_session& to, const packet_view& packet, received& seen) {
  if (packet.token == well_known_token(well_known::session_ack)) {
    auto ack = parse_ack_frame(packet.payload);
    ASSERT_TRUE(ack);
    ASSERT_TRUE(to.on_ack(ack.value())) << "correct peers never violate the protocol";
    ++seen.acks;
    return;
  }
  ASSERT_EQ(packet.token, well_known_token(well_known::session_reliable));
  auto frame = parse_reliable_frame(packet.payload);
  ASSERT_TRUE(frame) << frame.error().message();
  auto delivered = to.on_reliable(frame.value());
  ASSERT_TRUE(delivered) << "correct peers never violate the protocol";
  if (delivered.value())
    seen.ids.push_back(id_of(*delivered.value()));
  else
    ++seen.duplicates;
}

// Feeds whole frames in `wire` to `to` and returns what it delivered.
received feed(reliable_session& to, const std::vector<std::byte>& wire) {
  received out;
  packet_decoder decoder{};
  decoder.append(wire);
  for (auto next = decoder.next(); next && next.value(); next = decoder.next())
    dispatch(to, *next.value(), out);
  EXPECT_FALSE(decoder.error());
  return out;
}

std::vector<std::byte> write_all(reliable_session& from) {
  std::vector<std::byte> wire;
  from.take_writable(wire, SIZE_MAX);
  return wire;
}

std::vector<std::uint64_t> iota(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto i = first; i <= last; ++i)
    out.push_back(i);
  return out;
}

// Pushes packets with ids `first..last`, each padded by `extra` bytes.
void push_ids(reliable_session& s, std::uint64_t first, std::uint64_t last, std::size_t extra = 0) {
  for (auto i = first; i <= last; ++i)
    ASSERT_TRUE(s.push(make_inner(i, extra)));
}

// A frame for `to.on_reliable` built by hand, for what a correct peer never sends.
struct hand_made_frame {
  std::vector<std::byte> inner = make_inner(7);
  reliable_frame_view view(std::uint64_t seq, std::uint64_t ack) const {
    return {.seq = seq, .ack = ack, .inner = inner, .packet = parse_packet(inner).value()};
  }
};

// Two sessions of one pair, not yet connected.
class reliable_session_pair : public testing::Test {
protected:
  // Both sides start (or resume) a connection: each handshake carries its
  // sender's last_received, and each side resumes with the other's.
  void connect() {
    const auto a_last = a.last_received();
    ASSERT_TRUE(a.on_resume(b.last_received()));
    ASSERT_TRUE(b.on_resume(a_last));
  }

  void disconnect() {
    a.on_disconnect();
    b.on_disconnect();
  }

  reliable_session a{key_ab};
  reliable_session b{key_ab};
};

// -- keys ---------------------------------------------------------------------------

TEST(reliable_session, the_key_may_be_set_after_construction) {
  reliable_session s; // a dialer before its first handshake named the key
  EXPECT_FALSE(s.key().valid());
  s.set_key(key_ab);
  EXPECT_EQ(s.key(), key_ab);
}

// -- sending and delivery -------------------------------------------------------------

// INV-SESSION-01
TEST_F(reliable_session_pair, pushes_get_consecutive_seqs_and_wait_for_a_connection) {
  for (std::uint64_t i = 1; i <= 5; ++i) {
    auto seq = a.push(make_inner(i));
    ASSERT_TRUE(seq);
    EXPECT_EQ(seq.value(), i);
  }
  EXPECT_EQ(a.next_seq(), 6u);
  EXPECT_EQ(a.unacked_packets(), 5u);
  std::vector<std::byte> wire;
  EXPECT_FALSE(a.has_writable());
  EXPECT_EQ(a.take_writable(wire, SIZE_MAX), 0u);
  EXPECT_TRUE(wire.empty());
}

// INV-SESSION-06, INV-SESSION-10, INV-SESSION-13
TEST_F(reliable_session_pair, delivers_in_order_exactly_once) {
  connect();
  push_ids(a, 1, 10, 5);
  EXPECT_EQ(feed(b, write_all(a)).ids, iota(1, 10));
  EXPECT_EQ(b.last_received(), 10u);
  EXPECT_FALSE(a.has_writable()); // each seq once per connection
  EXPECT_EQ(a.retransmits(), 0u);
}

// INV-SESSION-06
TEST_F(reliable_session_pair, duplicates_are_dropped) {
  connect();
  push_ids(a, 1, 2);
  const auto wire = write_all(a);
  EXPECT_EQ(feed(b, wire).ids, iota(1, 2));
  auto again = feed(b, wire);
  EXPECT_TRUE(again.ids.empty());
  EXPECT_EQ(again.duplicates, 2u);
  EXPECT_EQ(b.last_received(), 2u);
}

// INV-SESSION-06, INV-SESSION-11
TEST_F(reliable_session_pair, a_gap_is_a_protocol_violation_and_changes_nothing) {
  connect();
  const hand_made_frame frame;
  EXPECT_EQ(b.on_reliable(frame.view(2, 0)).error(), error::malformed_packet);
  EXPECT_EQ(b.last_received(), 0u);
  auto ok = b.on_reliable(frame.view(1, 0));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok.value());
  EXPECT_EQ(b.last_received(), 1u);
}

// -- acks -------------------------------------------------------------------------------

// INV-SESSION-02, INV-SESSION-05, INV-SESSION-09
TEST_F(reliable_session_pair, acks_trim_the_replay_buffer) {
  connect();
  push_ids(a, 1, 5);
  const auto one_packet = make_inner(1).size();
  EXPECT_EQ(a.unacked_bytes(), 5 * one_packet);
  write_all(a);
  ASSERT_TRUE(a.on_ack(3));
  EXPECT_EQ(a.acked(), 3u);
  EXPECT_EQ(a.unacked_packets(), 2u);
  EXPECT_EQ(a.unacked_bytes(), 2 * one_packet);
  ASSERT_TRUE(a.on_ack(2)); // old news: acked never moves backwards
  EXPECT_EQ(a.acked(), 3u);
  EXPECT_EQ(a.unacked_packets(), 2u);
  ASSERT_TRUE(a.on_ack(5));
  EXPECT_EQ(a.unacked_packets(), 0u);
  EXPECT_EQ(a.unacked_bytes(), 0u);
}

// INV-SESSION-08, INV-SESSION-11
TEST_F(reliable_session_pair, an_ack_beyond_what_was_written_is_a_protocol_violation) {
  connect();
  push_ids(a, 1, 2);
  std::vector<std::byte> wire;
  ASSERT_EQ(a.take_writable(wire, 1), 1u);                 // only seq 1 written
  EXPECT_EQ(a.on_ack(2).error(), error::malformed_packet); // pushed, never written
  EXPECT_EQ(a.on_ack(99).error(), error::malformed_packet);
  // The same rule for a piggybacked ack, and the frame is not delivered.
  EXPECT_EQ(a.on_reliable(hand_made_frame{}.view(1, 2)).error(), error::malformed_packet);
  EXPECT_EQ(a.last_received(), 0u);
  EXPECT_EQ(a.unacked_packets(), 2u);
}

TEST_F(reliable_session_pair, acks_ride_on_frames_going_the_other_way) {
  connect();
  push_ids(a, 1, 2);
  EXPECT_EQ(feed(b, write_all(a)).ids, iota(1, 2));
  // b has data of its own: its frame carries the ack, so none goes alone.
  push_ids(b, 100, 100);
  EXPECT_FALSE(b.ack_pending());
  const auto reply = write_all(b);
  EXPECT_EQ(reply.size(), make_inner(100).size() + reliable_frame_overhead);
  EXPECT_FALSE(b.ack_pending());
  auto got = feed(a, reply);
  EXPECT_EQ(got.ids, iota(100, 100));
  EXPECT_EQ(got.acks, 0u);
  EXPECT_EQ(a.acked(), 2u);
  EXPECT_EQ(a.unacked_packets(), 0u);
}

// INV-SESSION-07
TEST_F(reliable_session_pair, an_ack_goes_alone_when_the_line_is_idle) {
  EXPECT_FALSE(b.ack_pending()); // not connected
  connect();
  EXPECT_FALSE(b.ack_pending()); // nothing received yet
  push_ids(a, 1, 1);
  feed(b, write_all(a));
  ASSERT_TRUE(b.ack_pending());
  std::vector<std::byte> wire;
  b.append_ack(wire);
  EXPECT_EQ(wire.size(), ack_frame_size);
  EXPECT_FALSE(b.ack_pending());
  EXPECT_EQ(feed(a, wire).acks, 1u);
  EXPECT_EQ(a.unacked_packets(), 0u);
  // New data makes an ack due again; a dropped connection makes it moot.
  push_ids(a, 2, 2);
  feed(b, write_all(a));
  EXPECT_TRUE(b.ack_pending());
  b.on_disconnect();
  EXPECT_FALSE(b.ack_pending());
  std::vector<std::byte> none;
  b.append_ack(none);
  EXPECT_TRUE(none.empty());
}

// INV-SESSION-07
TEST_F(reliable_session_pair, duplicates_make_an_ack_due_so_a_full_peer_is_freed) {
  // b's handshake lags (built before it read the old connection's last
  // frames), so a replays what b has. b must ack again: a's buffer is full of
  // those packets, and a has nothing new that would make b answer.
  a = reliable_session{key_ab, session_limits{.replay_buffer_bytes = 3 * 100}};
  connect();
  push_ids(a, 1, 3, 68);
  EXPECT_EQ(feed(b, write_all(a)).ids, iota(1, 3));
  disconnect();
  ASSERT_TRUE(a.on_resume(0)); // b's lagging handshake said 0
  ASSERT_TRUE(b.on_resume(a.last_received()));
  EXPECT_FALSE(b.ack_pending());
  auto replay = feed(b, write_all(a));
  EXPECT_TRUE(replay.ids.empty());
  EXPECT_EQ(replay.duplicates, 3u);
  EXPECT_FALSE(a.can_push(100));
  ASSERT_TRUE(b.ack_pending());
  std::vector<std::byte> ack;
  b.append_ack(ack);
  feed(a, ack);
  EXPECT_EQ(a.unacked_packets(), 0u);
  EXPECT_TRUE(a.can_push(100));
}

// -- backpressure -----------------------------------------------------------------------

// INV-SESSION-03, INV-SESSION-09
TEST_F(reliable_session_pair, a_full_replay_buffer_is_backpressure_not_loss) {
  ASSERT_EQ(make_inner(0, 68).size(), 100u);
  a = reliable_session{key_ab, session_limits{.replay_buffer_bytes = 350}};
  connect();
  push_ids(a, 1, 3, 68);
  EXPECT_FALSE(a.can_push(100));
  auto fourth = make_inner(4, 68);
  auto refused = a.push(std::move(fourth));
  EXPECT_EQ(refused.error(), std::make_error_code(std::errc::no_buffer_space));
  // The caller still holds the packet: nothing was taken, nothing dropped.
  EXPECT_EQ(fourth.size(), 100u);
  EXPECT_EQ(a.next_seq(), 4u);
  EXPECT_EQ(a.unacked_bytes(), 300u);
  // Delivery and an ack free room; the refused packet goes through.
  feed(b, write_all(a));
  std::vector<std::byte> ack;
  b.append_ack(ack);
  feed(a, ack);
  EXPECT_TRUE(a.can_push(100));
  auto seq = a.push(std::move(fourth));
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq.value(), 4u);
  EXPECT_EQ(feed(b, write_all(a)).ids, iota(4, 4));
}

TEST(reliable_session, push_refuses_packets_it_could_never_deliver) {
  reliable_session a{key_ab, session_limits{.replay_buffer_bytes = 100, .max_packet_size = 4096}};
  EXPECT_EQ(a.push(make_inner(1, 100)).error(), error::packet_too_large);
  reliable_session b{key_ab, session_limits{.replay_buffer_bytes = 10000, .max_packet_size = 100}};
  EXPECT_EQ(b.push(make_inner(1, 100 - 32 - reliable_frame_overhead + 1)).error(),
            error::packet_too_large);
  EXPECT_TRUE(b.push(make_inner(1, 100 - 32 - reliable_frame_overhead)));
  // Not one whole packet: too short, or two packets in one.
  EXPECT_EQ(a.push(std::vector<std::byte>(10)).error(), error::malformed_packet);
  auto two = make_inner(1);
  const auto one = two;
  two.insert(two.end(), one.begin(), one.end());
  EXPECT_EQ(a.push(std::move(two)).error(), error::malformed_packet);
  EXPECT_EQ(a.next_seq(), 1u);
}

// -- connections and replay -------------------------------------------------------------

// INV-SESSION-04, INV-SESSION-10
TEST_F(reliable_session_pair, a_dropped_connection_replays_everything_unacked_in_order) {
  connect();
  push_ids(a, 1, 3);
  write_all(a); // written, then lost with the connection
  disconnect();
  EXPECT_EQ(a.unacked_packets(), 3u); // a written packet stays until acked
  push_ids(a, 4, 4);                  // pushed while down
  connect();
  EXPECT_EQ(feed(b, write_all(a)).ids, iota(1, 4));
  EXPECT_EQ(a.retransmits(), 3u);
}

// INV-SESSION-10, INV-SESSION-13
TEST_F(reliable_session_pair, resume_skips_what_the_peer_already_has) {
  connect();
  push_ids(a, 1, 5);
  auto wire = write_all(a);
  // Three frames and a bit arrive before the connection drops.
  wire.resize(3 * (make_inner(1).size() + reliable_frame_overhead) + 10);
  EXPECT_EQ(feed(b, wire).ids, iota(1, 3));
  disconnect();
  connect(); // b's handshake said last_received 3: as good as an ack
  EXPECT_EQ(a.acked(), 3u);
  EXPECT_FALSE(b.ack_pending());
  EXPECT_EQ(a.unacked_packets(), 2u);
  auto got = feed(b, write_all(a));
  EXPECT_EQ(got.ids, iota(4, 5));
  EXPECT_EQ(got.duplicates, 0u);
  EXPECT_EQ(a.retransmits(), 2u);
}

// INV-SESSION-08, INV-SESSION-11
TEST_F(reliable_session_pair, a_resume_beyond_what_was_written_is_refused) {
  ASSERT_TRUE(a.on_resume(0));
  push_ids(a, 1, 1);
  write_all(a);
  a.on_disconnect();
  EXPECT_EQ(a.on_resume(2).error(), error::malformed_packet);
  EXPECT_FALSE(a.connected());
  EXPECT_EQ(a.unacked_packets(), 1u);
  // A lagging peer (below what it acked) is harmless: nothing to trim.
  ASSERT_TRUE(a.on_resume(1));
  ASSERT_TRUE(a.on_resume(0));
  EXPECT_EQ(a.acked(), 1u);
}

TEST_F(reliable_session_pair, take_writable_respects_max_bytes_but_always_makes_progress) {
  ASSERT_TRUE(a.on_resume(0));
  push_ids(a, 1, 4);
  const auto frame = make_inner(1).size() + reliable_frame_overhead;
  std::vector<std::byte> wire;
  EXPECT_EQ(a.take_writable(wire, 1), 1u); // smaller than one frame: still one
  EXPECT_EQ(a.take_writable(wire, 2 * frame + frame / 2), 2u);
  EXPECT_EQ(a.take_writable(wire, SIZE_MAX), 1u);
  EXPECT_EQ(a.take_writable(wire, SIZE_MAX), 0u);
  EXPECT_EQ(wire.size(), 4 * frame);
}

// -- the model -------------------------------------------------------------------

// One process's side of the model: its session, the packet it holds because
// push refused it, what it pushed and received, its receive decoder for the
// current connection, and the bytes it wrote that are still in flight.
struct model_side {
  reliable_session session;
  std::optional<std::vector<std::byte>> held{};
  std::uint64_t pushed = 0;
  std::uint64_t refusals = 0;
  received seen{};
  packet_decoder decoder{};
  std::vector<std::byte> in_flight{};
};

// Two sessions over one simulated connection that delivers any prefix of what
// was written, flips bits, drops at any moment, and sometimes carries a
// lagging handshake.
struct session_model {
  session_model(std::uint64_t seed, session_limits limits)
      : rng(seed)
      , a{.session = reliable_session{key_ab, limits}}
      , b{.session = reliable_session{key_ab, limits}} {}

  void step() {
    const auto action = rng() % 10;
    model_side& s = rng() % 2 ? a : b;
    if (action < 3)
      push(s, true);
    else if (action < 5)
      write(s);
    else if (action < 8)
      deliver(s, false);
    else if (action == 8 && rng() % 4 == 0)
      drop();
    else if (action == 8)
      connect(true);
    else if (rng() % 8 == 0 && !s.in_flight.empty())
      s.in_flight[rng() % s.in_flight.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
  }

  // Runs without chaos until everything pushed is delivered and acked. Starts
  // on a fresh connection: a bit flip in a length field can leave the old one
  // waiting for bytes that never come (a Peer's ping timeout ends that).
  void drain() {
    drop();
    connect(false);
    for (int round = 0; round < 100000 && !quiet() && !testing::Test::HasFatalFailure(); ++round)
      for (model_side* s : {&a, &b}) {
        push(*s, false);
        write(*s);
        deliver(*s, true);
      }
  }

  bool quiet() const {
    for (const model_side* s : {&a, &b})
      if (s->held || s->session.unacked_packets() > 0 || s->session.ack_pending() ||
          !s->in_flight.empty())
        return false;
    return true;
  }

  // Pushes the packet `s` holds, or with `fresh` a new one; keeps holding it
  // when refused (INV-SESSION-09: refused means kept, never dropped).
  void push(model_side& s, bool fresh) {
    if (!s.held && fresh)
      s.held = make_inner(s.pushed + 1, rng() % 200);
    if (!s.held)
      return;
    auto seq = s.session.push(std::move(*s.held));
    if (!seq) {
      ASSERT_EQ(seq.error(), std::make_error_code(std::errc::no_buffer_space));
      ++s.refusals;
      return;
    }
    ASSERT_EQ(seq.value(), ++s.pushed); // INV-SESSION-01
    s.held.reset();
  }

  void write(model_side& s) {
    if (!up)
      return;
    s.session.take_writable(s.in_flight, rng() % 1024);
    if (s.session.ack_pending() && rng() % 2)
      s.session.append_ack(s.in_flight);
  }

  // Delivers all or a random prefix of what `from` wrote to its peer.
  void deliver(model_side& from, bool all) {
    if (!up || from.in_flight.empty())
      return;
    model_side& to = &from == &a ? b : a;
    const std::size_t n = all ? from.in_flight.size() : 1 + rng() % from.in_flight.size();
    to.decoder.append(std::span{from.in_flight}.first(n));
    from.in_flight.erase(from.in_flight.begin(), from.in_flight.begin() + static_cast<long>(n));
    while (up && !testing::Test::HasFatalFailure()) {
      auto next = to.decoder.next();
      if (!next)
        return drop(); // a flipped bit broke framing or a checksum: close, as a Peer does
      if (!next.value())
        return;
      dispatch(to.session, *next.value(), to.seen);
    }
  }

  void drop() {
    drops += up ? 1 : 0;
    up = false;
    for (model_side* s : {&a, &b}) {
      s->session.on_disconnect();
      s->in_flight.clear();
      s->decoder = packet_decoder{};
    }
  }

  // A new connection; the handshakes travel through their real encoding. With
  // chaos, a handshake may report less than its sender has received, as one
  // built before the old connection's last frames were read would: the other
  // side then replays packets that must be dropped as duplicates.
  void connect(bool chaos) {
    if (up)
      return;
    const auto from_a = handshake_of(a, chaos && rng() % 4 == 0 ? rng() : 0);
    const auto from_b = handshake_of(b, chaos && rng() % 4 == 0 ? rng() : 0);
    ASSERT_EQ(from_a.session_key, b.session.key());
    ASSERT_TRUE(a.session.on_resume(from_b.last_received_seq));
    ASSERT_TRUE(b.session.on_resume(from_a.last_received_seq));
    up = true;
  }

  // `s`'s handshake after encoding and decoding, reporting up to `lag` fewer
  // packets received than it really has.
  static handshake handshake_of(const model_side& s, std::uint64_t lag) {
    handshake mine;
    mine.session_key = s.session.key();
    const auto last = s.session.last_received();
    mine.last_received_seq = last - lag % (last + 1);
    auto theirs = decode_handshake(parse_packet(encode_handshake(mine)).value().payload);
    EXPECT_TRUE(theirs);
    return theirs.value();
  }

  std::mt19937_64 rng;
  model_side a;
  model_side b;
  bool up = false;
  std::uint64_t drops = 0;
};

// INV-SESSION-09, INV-SESSION-10, INV-SESSION-13 (and 01..07 inside the calls)
TEST(reliable_session, model_every_packet_arrives_exactly_once_in_order_through_any_drops) {
  std::uint64_t drops = 0, retransmits = 0, refusals = 0, delivered = 0, duplicates = 0;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    // Mostly a small bound (a few packets), so backpressure happens all the
    // time; every fourth run a roomy one, so long replays happen too.
    const std::size_t bound = seed % 4 == 0 ? 64 * 1024 : 2048;
    session_model model{seed, session_limits{.replay_buffer_bytes = bound}};
    for (int i = 0; i < 3000 && !testing::Test::HasFatalFailure(); ++i)
      model.step();
    model.drain();
    ASSERT_FALSE(testing::Test::HasFatalFailure()) << "seed " << seed;
    ASSERT_TRUE(model.quiet()) << "seed " << seed;
    // Exactly once, in order: each receiver saw 1, 2, ..., what the other pushed.
    EXPECT_EQ(model.b.seen.ids, iota(1, model.a.pushed)) << "seed " << seed;
    EXPECT_EQ(model.a.seen.ids, iota(1, model.b.pushed)) << "seed " << seed;
    for (const model_side* s : {&model.a, &model.b}) {
      retransmits += s->session.retransmits();
      refusals += s->refusals;
      delivered += s->seen.ids.size();
      duplicates += s->seen.duplicates;
    }
    drops += model.drops;
  }
  // The model must have exercised what it claims to.
  EXPECT_GT(drops, 1000u);
  EXPECT_GT(retransmits, 1000u);
  EXPECT_GT(refusals, 1000u);
  EXPECT_GT(delivered, 10000u);
  EXPECT_GT(duplicates, 100u);
}

} // namespace
} // namespace grainflow
