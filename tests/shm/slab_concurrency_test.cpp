// The slab protocol with a real producer and consumer thread (one mapping,
// so ThreadSanitizer sees both sides): the sender allocates, fills and
// publishes; the receiver checks, verifies every byte and hands the slot
// back; both sleep on the doorbells when they must wait. A slot reused before
// the receiver is done with it, a lost wakeup or a lost slot fails the test.
// INV-RING-02, INV-SLOT-01..05, INV-BELL-01/02.

#include "grainflow/shm/descriptor.hpp"
#include "grainflow/shm/doorbell.hpp"
#include "grainflow/shm/slot_pool.hpp"
#include "grainflow/shm/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace grainflow::shm;
using namespace std::chrono_literals;

constexpr std::uint32_t ring_capacity = 16;
constexpr std::uint32_t slot_count = 8;
constexpr std::uint32_t slot_size = 1024;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t message_count = 100'000;
#else
constexpr std::uint64_t message_count = 1'000'000;
#endif

/// The byte at `offset` of message `n`.
std::byte pattern(std::uint64_t n, std::size_t offset) {
  return static_cast<std::byte>((n * 131 + offset * 7) >> 1);
}

std::uint32_t size_of_message(std::uint64_t n) {
  // Inline, small slots and full slots, in a fixed pseudo-random mix.
  const std::uint64_t x = n * 0x9E3779B97F4A7C15ULL >> 40;
  switch (x % 4) {
  case 0:
    return static_cast<std::uint32_t>(x % (descriptor_inline_capacity + 1));
  case 3:
    return slot_size;
  default:
    return static_cast<std::uint32_t>(descriptor_inline_capacity + 1 + x % 200);
  }
}

/// One direction of a segment, in ordinary memory.
struct direction {
  direction()
      : block(std::make_unique<direction_block>())
      , messages(ring_capacity)
      , returns(slot_count)
      , generations(slot_count)
      , slab(std::size_t{slot_count} * slot_size) {}

  std::unique_ptr<direction_block> block;
  std::vector<descriptor> messages;
  std::vector<std::uint64_t> returns;
  std::vector<std::atomic<std::uint32_t>> generations;
  std::vector<std::byte> slab;
};

/// How one thread waited.
struct wait_counts {
  std::uint64_t sleeps = 0;
  /// Sleeps that ended by their timeout: the other thread always makes
  /// progress here, so each one is a lost wakeup (INV-BELL-01).
  std::uint64_t timeouts = 0;
};

/// Spins a little, then sleeps on `b` until `ready(order)`.
template <class Ready>
void wait_until(bell& b, Ready&& ready, wait_counts& waits) {
  for (int i = 0; i < 200; ++i) {
    if (ready(std::memory_order_acquire))
      return;
    cpu_relax();
  }
  while (!ready(std::memory_order_acquire)) {
    const auto start = std::chrono::steady_clock::now();
    if (sleep_unless(
            b, [&] { return ready(std::memory_order_seq_cst); }, 2s)) {
      ++waits.sleeps;
      if (std::chrono::steady_clock::now() - start >= 1900ms)
        ++waits.timeouts;
    }
  }
}

void produce(direction& d, wait_counts& waits) {
  ring_producer<descriptor> out{d.block->messages, d.messages.data(), ring_capacity};
  ring_consumer<std::uint64_t> returns{d.block->returns, d.returns.data(), slot_count};
  slot_pool pool{slot_count, d.generations.data()};
  const auto collect = [&](std::memory_order order) {
    EXPECT_NE(returns.refresh(order), ring_status::corrupt);
    for (std::uint64_t i = 0; i < returns.readable(); ++i)
      EXPECT_TRUE(pool.take_back(decode_return(returns.read(i))));
    returns.pop(returns.readable());
    return pool.free_count() > 0;
  };
  for (std::uint64_t n = 0; n < message_count; ++n) {
    const std::uint32_t size = size_of_message(n);
    descriptor desc;
    if (size <= descriptor_inline_capacity) {
      std::byte payload[descriptor_inline_capacity];
      for (std::size_t i = 0; i < size; ++i)
        payload[i] = pattern(n, i);
      desc = make_inline_descriptor({payload, size});
    } else {
      auto ticket = pool.allocate();
      if (!ticket) {
        wait_until(d.block->room, collect, waits);
        ticket = pool.allocate();
      }
      ASSERT_TRUE(ticket.has_value());
      std::byte* slot = d.slab.data() + std::size_t{ticket->slot} * slot_size;
      for (std::size_t i = 0; i < size; ++i)
        slot[i] = pattern(n, i);
      desc = make_slot_descriptor({ticket->slot, ticket->generation, 0}, size);
    }
    if (out.try_stage(desc) != ring_status::ok) {
      wait_until(
          d.block->room,
          [&](std::memory_order order) { return out.refresh(order) == ring_status::ok; }, waits);
      ASSERT_EQ(out.try_stage(desc), ring_status::ok);
    }
    out.publish();
    ring(d.block->data);
  }
  // Everything comes back once the consumer is done.
  while (pool.in_flight() > 0)
    wait_until(
        d.block->room,
        [&](std::memory_order order) {
          collect(order);
          return pool.in_flight() == 0;
        },
        waits);
  EXPECT_EQ(pool.free_count(), slot_count);
}

void consume(direction& d, wait_counts& waits, std::uint64_t& checked_bytes) {
  ring_consumer<descriptor> in{d.block->messages, d.messages.data(), ring_capacity};
  ring_producer<std::uint64_t> returns{d.block->returns, d.returns.data(), slot_count};
  descriptor_checker checker{d.slab.data(), slot_size, slot_count, d.generations.data()};
  std::uint64_t n = 0;
  while (n < message_count) {
    wait_until(
        d.block->data,
        [&](std::memory_order order) { return in.refresh(order) == ring_status::ok; }, waits);
    const auto available = in.readable();
    for (std::uint64_t i = 0; i < available; ++i, ++n) {
      const descriptor desc = in.read(i);
      const auto checked = checker.check(std::span<const descriptor>{&desc, 1});
      ASSERT_EQ(checked.fault, descriptor_fault::none) << "message " << n;
      ASSERT_EQ(checked.payload.size(), size_of_message(n)) << "message " << n;
      for (std::size_t b = 0; b < checked.payload.size(); ++b)
        ASSERT_EQ(checked.payload[b], pattern(n, b)) << "message " << n << " byte " << b;
      checked_bytes += checked.payload.size();
      if (checked.return_slot) {
        ASSERT_EQ(returns.try_stage(encode_return({checked.slot, checked.generation})),
                  ring_status::ok);
        returns.publish();
        ring(d.block->room);
      }
    }
    in.pop(available);
    ring(d.block->room);
  }
}

TEST(slab_concurrency, producer_and_consumer_threads_exchange_every_byte) {
  direction d;
  wait_counts producer_waits;
  wait_counts consumer_waits;
  std::uint64_t checked_bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  std::thread consumer{[&] { consume(d, consumer_waits, checked_bytes); }};
  produce(d, producer_waits);
  consumer.join();
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu messages, %llu bytes checked in %.2f s; sleeps: producer %llu, consumer "
              "%llu\n",
              static_cast<unsigned long long>(message_count),
              static_cast<unsigned long long>(checked_bytes), seconds,
              static_cast<unsigned long long>(producer_waits.sleeps),
              static_cast<unsigned long long>(consumer_waits.sleeps));
  EXPECT_EQ(producer_waits.timeouts, 0u);
  EXPECT_EQ(consumer_waits.timeouts, 0u);
}

} // namespace
