// A link whose peer is this test, writing the segment by hand: corrupted
// descriptors (bad kind, inline length, slot, generation, replays, bounds),
// forged slot returns, impossible ring indices, a heartbeat that stops and
// an epoch that changes. Every bad input is rejected and counted, no slot is
// lost or freed twice, and the link goes on with the valid rest — or, where
// the peer broke the rings themselves, fails cleanly.
// INV-RING-03, INV-SLOT-03..06, INV-LIVE-01/02.

#include "grainflow/shm/doorbell.hpp"
#include "grainflow/shm/link.hpp"
#include "grainflow/shm/segment.hpp"
#include "grainflow/shm/slot_pool.hpp"
#include "grainflow/shm/spsc_ring.hpp"

#include "grainflow/endpoints/error.hpp"

#include "link_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <thread>

namespace {

using namespace grainflow;
using namespace grainflow::shm;
using namespace grainflow::shm::test;
using namespace std::chrono_literals;

constexpr std::uint32_t slot_size = 1024;
constexpr std::uint32_t slot_count = 4;

link_config config_for_tests() {
  link_config config;
  config.segment = {16, slot_size, slot_count};
  config.peer_timeout = 60s; // the hand-written peer does not beat unless asked
  return config;
}

/// The opener's side of a segment, driven by hand.
class raw_peer {
public:
  /// Opens `name` and claims the opener's side; removes the name unless
  /// `unlink_name` is false.
  explicit raw_peer(const std::string& name, bool unlink_name = true)
      : seg_(segment::open(name).value())
      , out_(seg_.direction(side::opener).messages, seg_.message_ring(side::opener),
             seg_.geometry().ring_capacity)
      , returns_(seg_.direction(side::opener).returns, seg_.return_ring(side::opener),
                 seg_.geometry().return_capacity)
      , pool_(slot_count, seg_.generations(side::opener))
      , in_(seg_.direction(side::creator).messages, seg_.message_ring(side::creator),
            seg_.geometry().ring_capacity)
      , returns_out_(seg_.direction(side::creator).returns, seg_.return_ring(side::creator),
                     seg_.geometry().return_capacity) {
    side_block& me = seg_.side_of(side::opener);
    me.epoch.store(42);
    me.state.store(static_cast<std::uint32_t>(side_state::attached));
    if (unlink_name) {
      EXPECT_TRUE(segment::unlink(name));
    }
  }

  segment& seg() { return seg_; }
  slot_pool& pool() { return pool_; }

  /// A slot filled with `payload`.
  slot_ticket fill(const std::vector<std::byte>& payload) {
    auto ticket = pool_.allocate();
    EXPECT_TRUE(ticket.has_value());
    std::memcpy(seg_.slab(side::opener) + std::size_t{ticket->slot} * slot_size, payload.data(),
                payload.size());
    return *ticket;
  }

  void push(const descriptor& d) { ASSERT_EQ(out_.try_stage(d), ring_status::ok); }

  void publish() {
    out_.publish();
    ring_always(seg_.direction(side::opener).data);
  }

  /// Every return the link handed back so far.
  std::vector<slot_ticket> collect_returns() {
    std::vector<slot_ticket> tickets;
    EXPECT_NE(returns_.refresh(std::memory_order_acquire), ring_status::corrupt);
    for (std::uint64_t i = 0; i < returns_.readable(); ++i)
      tickets.push_back(decode_return(returns_.read(i)));
    returns_.pop(returns_.readable());
    return tickets;
  }

  /// The descriptors the link sent so far.
  std::vector<descriptor> take_messages() {
    std::vector<descriptor> got;
    if (in_.refresh(std::memory_order_acquire) == ring_status::ok) {
      for (std::uint64_t i = 0; i < in_.readable(); ++i)
        got.push_back(in_.read(i));
      in_.pop(in_.readable());
      ring_always(seg_.direction(side::creator).room);
    }
    return got;
  }

  /// Hands `entry` back to the link as if it were a slot return.
  void hand_back(std::uint64_t entry) {
    ASSERT_EQ(returns_out_.try_push(entry), ring_status::ok);
    ring_always(seg_.direction(side::creator).room);
  }

private:
  segment seg_;
  ring_producer<descriptor> out_;
  ring_consumer<std::uint64_t> returns_;
  slot_pool pool_;
  ring_consumer<descriptor> in_;
  ring_producer<std::uint64_t> returns_out_;
};

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

TEST(hostile_peer, corrupted_descriptors_are_rejected_counted_and_the_rest_arrives) {
  recorder received;
  auto victim = shm::link::create(config_for_tests(), received.handlers()).value();
  raw_peer peer{victim->name()};

  const auto first = bytes_of("first, inline");
  const auto large = pattern(500, 1);
  const auto later = pattern(300, 2);
  const auto last = bytes_of("last, inline");

  peer.push(make_inline_descriptor(first));
  descriptor bad_kind = make_inline_descriptor(first);
  bad_kind.kind = 9;
  peer.push(bad_kind);
  const slot_ticket t1 = peer.fill(large);
  const descriptor valid_slot = make_slot_descriptor({t1.slot, t1.generation, 0}, 500);
  peer.push(valid_slot);
  descriptor too_long = make_inline_descriptor(first);
  too_long.length = max_inline_payload + 1;
  peer.push(too_long);
  peer.push(make_slot_descriptor({slot_count, 1, 0}, 10)); // slot out of range
  const slot_ticket t2 = peer.fill(later);
  peer.push(make_slot_descriptor({t2.slot, t2.generation + 1, 0}, 300)); // wrong generation
  peer.push(valid_slot);                                                 // a replay
  const slot_ticket t3 = peer.fill(large);
  peer.push(make_slot_descriptor({t3.slot, t3.generation, 0}, slot_size + 1)); // too long
  const slot_ticket t4 = peer.fill(large);
  peer.push(make_slot_descriptor({t4.slot, t4.generation, 0xFFFFFFF0}, 0x20)); // wraps
  peer.push(make_slot_descriptor({t2.slot, t2.generation, 0}, 300));
  peer.push(make_inline_descriptor(last));
  peer.publish();

  ASSERT_TRUE(received.wait_for_messages(4));
  const auto messages = received.messages();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0], first);
  EXPECT_EQ(messages[1], large);
  EXPECT_EQ(messages[2], later);
  EXPECT_EQ(messages[3], last);

  const auto stats = victim->stats();
  EXPECT_EQ(stats.rejected_descriptors, 7u);
  const auto fault = [&](descriptor_fault f) {
    return stats.rejected_by_fault[static_cast<std::size_t>(f)];
  };
  EXPECT_EQ(fault(descriptor_fault::unknown_kind), 1u);
  EXPECT_EQ(fault(descriptor_fault::inline_too_long), 1u);
  EXPECT_EQ(fault(descriptor_fault::slot_out_of_range), 1u);
  EXPECT_EQ(fault(descriptor_fault::generation_mismatch), 1u);
  EXPECT_EQ(fault(descriptor_fault::already_received), 1u);
  EXPECT_EQ(fault(descriptor_fault::out_of_slot_bounds), 2u);
  EXPECT_FALSE(stats.failure);

  // INV-SLOT-04: every genuine slot came back exactly once, bad bounds
  // included; the replay and the forgeries did not.
  std::vector<slot_ticket> returned;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (returned.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    for (auto t : peer.collect_returns())
      returned.push_back(t);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(returned, (std::vector<slot_ticket>{t1, t3, t4, t2}));
  for (auto t : returned)
    EXPECT_TRUE(peer.pool().take_back(t));
  EXPECT_EQ(peer.pool().in_flight(), 0u);

  // The link goes on.
  peer.push(make_inline_descriptor(first));
  peer.publish();
  ASSERT_TRUE(received.wait_for_messages(5));
  EXPECT_EQ(victim->stats().messages_received, 5u);
}

TEST(hostile_peer, an_inline_message_without_its_continuations_is_rejected) {
  recorder received;
  auto victim = shm::link::create(config_for_tests(), received.handlers()).value();
  raw_peer peer{victim->name()};
  std::array<descriptor, 4> entries;
  ASSERT_EQ(encode_inline(pattern(120, 1), entries), 2u);
  peer.push(entries[0]); // published without its continuation
  peer.publish();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (victim->stats().rejected_descriptors == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(victim->stats()
                .rejected_by_fault[static_cast<std::size_t>(descriptor_fault::inline_truncated)],
            1u);
  peer.push(entries[1]); // the late continuation is no descriptor
  ASSERT_EQ(encode_inline(pattern(180, 2), entries), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    peer.push(entries[i]);
  peer.publish();
  ASSERT_TRUE(received.wait_for_messages(1));
  EXPECT_EQ(received.messages()[0], pattern(180, 2));
  EXPECT_EQ(victim->stats().rejected_descriptors, 2u);
}

TEST(hostile_peer, forged_slot_returns_are_refused_and_counted) {
  // INV-SLOT-03: the link's own slab is never freed twice, whatever the peer
  // hands back. The return ring holds 4 entries; each round fills it, and the
  // link collects it when a send finds no free slot.
  recorder received;
  auto victim = shm::link::create(config_for_tests(), received.handlers()).value();
  raw_peer peer{victim->name()};
  const auto entry = [](const descriptor& d, std::uint32_t generation_delta = 0) {
    const auto where = read_slot_reference(d);
    return encode_return({where.slot, where.generation + generation_delta});
  };
  for (std::uint32_t i = 0; i < slot_count; ++i)
    ASSERT_TRUE(victim->send(pattern(300, i)));
  EXPECT_EQ(victim->stats().slots_in_flight, slot_count);
  const auto round1 = peer.take_messages();
  ASSERT_EQ(round1.size(), slot_count);
  peer.hand_back(encode_return({slot_count + 3, 1})); // no such slot
  peer.hand_back(entry(round1[0], 1));                // a generation never issued
  peer.hand_back(entry(round1[0]));
  peer.hand_back(entry(round1[1]));
  ASSERT_TRUE(victim->send(pattern(300, 10))); // collects: 2 refused, 2 freed
  EXPECT_EQ(victim->stats().rejected_returns, 2u);
  EXPECT_EQ(victim->stats().slots_in_flight, 3u);
  ASSERT_EQ(peer.take_messages().size(), 1u);
  peer.hand_back(entry(round1[0])); // again: that slot is free now
  peer.hand_back(entry(round1[1])); // again: that slot was reused meanwhile
  peer.hand_back(entry(round1[2]));
  peer.hand_back(entry(round1[3]));
  ASSERT_TRUE(victim->send(pattern(300, 11))); // takes the free slot
  ASSERT_TRUE(victim->send(pattern(300, 12))); // collects: 2 refused, 2 freed
  const auto stats = victim->stats();
  EXPECT_EQ(stats.rejected_returns, 4u);
  EXPECT_EQ(stats.slots_in_flight, 3u);
  EXPECT_FALSE(stats.failure);
}

TEST(hostile_peer, an_impossible_ring_head_fails_the_link_cleanly) {
  // INV-RING-03: read once, bound-checked, and never used when impossible.
  recorder received;
  auto victim = shm::link::create(config_for_tests(), received.handlers()).value();
  raw_peer peer{victim->name()};
  peer.seg().direction(side::opener).messages.head.store(16 + 5);
  ring_always(peer.seg().direction(side::opener).data);
  const auto failure = received.wait_for_failure(5s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::malformed_packet);
  EXPECT_EQ(received.messages().size(), 0u);
  const auto sent = victim->send(pattern(10, 0));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error(), error::connection_failed);
  EXPECT_EQ(victim->stats().failure, error::malformed_packet);
}

TEST(hostile_peer, an_impossible_return_ring_fails_the_senders_cleanly) {
  recorder received;
  auto victim = shm::link::create(config_for_tests(), received.handlers()).value();
  raw_peer peer{victim->name()};
  for (std::uint32_t i = 0; i < slot_count; ++i)
    ASSERT_TRUE(victim->send(pattern(300, i)));
  peer.seg().direction(side::creator).returns.head.store(1000);
  const auto sent = victim->send(pattern(300, 9), std::chrono::steady_clock::now() + 5s);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error(), error::connection_failed);
  EXPECT_EQ(victim->stats().failure, error::malformed_packet);
  EXPECT_EQ(victim->stats().slots_in_flight, 0u); // INV-SLOT-06: reclaimed
}

TEST(hostile_peer, a_heartbeat_that_stops_means_a_dead_peer) {
  // INV-LIVE-02: no socket here; the heartbeat alone notices.
  link_config config = config_for_tests();
  config.peer_timeout = 300ms;
  recorder received;
  auto victim = shm::link::create(config, received.handlers()).value();
  raw_peer peer{victim->name()};
  const auto start = std::chrono::steady_clock::now();
  // Beat for a while: the link stays up.
  while (std::chrono::steady_clock::now() - start < 600ms) {
    peer.seg().side_of(side::opener).heartbeat.fetch_add(1);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(received.failure().has_value());
  const auto stopped = std::chrono::steady_clock::now();
  const auto failure = received.wait_for_failure(5s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 1s);
  EXPECT_TRUE(victim->stats().peer_dead);
}

TEST(hostile_peer, a_changed_epoch_means_the_peer_was_replaced) {
  // INV-LIVE-01.
  link_config config = config_for_tests();
  config.heartbeat_interval = 20ms;
  recorder received;
  auto victim = shm::link::create(config, received.handlers()).value();
  raw_peer peer{victim->name()};
  std::this_thread::sleep_for(100ms); // the link has seen epoch 42
  EXPECT_FALSE(received.failure().has_value());
  peer.seg().side_of(side::opener).epoch.store(43);
  const auto failure = received.wait_for_failure(5s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_TRUE(victim->stats().peer_dead);
}

TEST(hostile_peer, a_second_opener_is_refused) {
  link_config config = config_for_tests();
  config.heartbeat_interval = 5s; // the victim leaves the name alone meanwhile
  recorder received;
  auto victim = shm::link::create(config, received.handlers()).value();
  const std::string name = victim->name();
  raw_peer peer{name, false}; // claims the opener's side, keeps the name
  auto second = shm::link::open(name, config, recorder{}.handlers());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), std::errc::device_or_resource_busy);
  EXPECT_TRUE(segment::unlink(name));
}

TEST(hostile_peer, segments_with_bad_headers_are_refused) {
  auto seg = segment::create({8, 64, 1}).value();
  const std::string name = seg.name();
  segment_fields& fields = seg.header().fields;
  const segment_fields good = fields;
  const auto refused = [&](std::error_code expected) {
    auto opened = segment::open(name);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), expected);
    fields = good;
  };
  fields.version = segment_version + 1;
  refused(make_error_code(error::incompatible_protocol));
  fields.magic ^= 1;
  refused(make_error_code(error::malformed_packet));
  fields.slot_count = 1000; // the geometry no longer matches the size
  refused(make_error_code(error::malformed_packet));
  fields.ring_capacity = 3;
  refused(make_error_code(error::malformed_packet));
  fields.total_bytes += 4096;
  refused(make_error_code(error::malformed_packet));
  fields.header_bytes = 64;
  refused(make_error_code(error::malformed_packet));
  EXPECT_TRUE(segment::open(name));
  EXPECT_TRUE(segment::unlink(name));
  EXPECT_FALSE(in_dev_shm(name));
}

} // namespace
