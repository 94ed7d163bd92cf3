// endpoint_map under concurrent lookups, inserts and removes. Run under
// ThreadSanitizer too. The INV-EPMAP-nn names refer to
// endpoints/src/endpoint_map.spec.md.

#include "grainflow/endpoints/endpoint_map.hpp"

#include "grainflow/endpoints/endpoint.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace grainflow;

namespace {

using receiver_ptr = endpoint_map::receiver_ptr;

constexpr std::uint64_t alive_magic = 0xa11fe;
constexpr std::uint64_t dead_magic = 0xdead;

/// Counts destructions per receiver, so "exactly once" is checked per object.
struct ledger {
  explicit ledger(std::size_t max)
      : destroyed(max) {}
  std::atomic<std::uint32_t> next_id{0};
  std::vector<std::atomic<int>> destroyed;
};

/// A receiver with an immutable id, known before it is inserted, so a lookup
/// can verify it got the receiver its token was issued for.
struct tagged : ref_counted {
  tagged(std::uint32_t id, ledger& book)
      : id{id}
      , book{book} {}
  ~tagged() override {
    magic = dead_magic;
    EXPECT_EQ(book.destroyed[id].fetch_add(1), 0) << "receiver " << id << " destroyed twice";
  }
  const std::uint32_t id;
  std::uint64_t magic = alive_magic;
  ledger& book;
};

/// What a writer tells readers: token -> id of its first receiver, run length.
struct entry {
  uid base;
  std::uint32_t first_id = 0;
  std::uint32_t length = 0;
};

/// One writer's published endpoints. A test-side mutex: the map's lookups
/// stay lock-free, only the test's bookkeeping locks.
struct board {
  std::mutex mtx;
  std::vector<entry> live;
  std::vector<entry> dead; // removed: lookups must fail from now on
};

} // namespace

TEST(endpoint_map_concurrency_test,
     lookups_racing_inserts_and_removes_only_see_their_own_receiver) {
  // INV-EPMAP-03, INV-EPMAP-04, INV-EPMAP-05, INV-EPMAP-06
  constexpr int writers = 2;
  constexpr int readers = 2;
  constexpr int operations_per_writer = 10000;
  constexpr std::uint32_t max_run = 4;
  ledger book{writers * operations_per_writer * max_run};
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> stale_probes{0};
  std::atomic<int> writers_done{0};
  std::vector<board> boards(writers);
  {
    endpoint_map map{2024};
    auto writer = [&](int w) {
      std::minstd_rand rng{static_cast<unsigned>(w) + 1};
      auto& mine = boards[w];
      for (int op = 0; op < operations_per_writer; ++op) {
        bool grow = mine.live.size() < 8 || (mine.live.size() < 64 && rng() % 2 == 0);
        if (grow) {
          auto length = static_cast<std::uint32_t>(1 + rng() % max_run);
          auto first_id = book.next_id.fetch_add(length);
          std::vector<receiver_ptr> run;
          for (std::uint32_t i = 0; i < length; ++i)
            run.push_back(make_intrusive<tagged>(first_id + i, book));
          auto base = map.insert(run);
          ASSERT_TRUE(base);
          std::lock_guard<std::mutex> guard{mine.mtx};
          mine.live.push_back(entry{base.value(), first_id, length});
        } else {
          entry victim;
          {
            std::lock_guard<std::mutex> guard{mine.mtx};
            auto i = rng() % mine.live.size();
            victim = mine.live[i];
            mine.live[i] = mine.live.back();
            mine.live.pop_back();
          }
          ASSERT_TRUE(map.remove(victim.base, victim.length));
          std::lock_guard<std::mutex> guard{mine.mtx};
          if (mine.dead.size() < 256)
            mine.dead.push_back(victim);
          else
            mine.dead[rng() % mine.dead.size()] = victim;
        }
      }
      writers_done.fetch_add(1);
    };
    auto reader = [&](int r) {
      std::minstd_rand rng{static_cast<unsigned>(r) + 100};
      while (writers_done.load() < writers) {
        auto& theirs = boards[rng() % writers];
        entry e;
        bool is_dead = false;
        {
          std::lock_guard<std::mutex> guard{theirs.mtx};
          is_dead = !theirs.dead.empty() && rng() % 4 == 0;
          auto& pool = is_dead ? theirs.dead : theirs.live;
          if (pool.empty())
            continue;
          e = pool[rng() % pool.size()];
        }
        // Several lookups per pick: the entry may be removed meanwhile, so a
        // live entry may turn null, but never into another receiver.
        endpoint ep{network_address::loopback_v4(1), e.base};
        for (std::uint32_t i = 0; i < e.length; ++i) {
          auto found = map.lookup(ep.adjusted(i).token);
          if (is_dead) {
            ASSERT_FALSE(found) << "a removed token resolved";
            stale_probes.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          if (!found)
            continue;
          auto* t = static_cast<tagged*>(found.get());
          ASSERT_EQ(t->id, e.first_id + i) << "a token reached a receiver it was not issued for";
          ASSERT_EQ(t->magic, alive_magic);
          hits.fetch_add(1, std::memory_order_relaxed);
        }
        // Forged neighbours: a random part that was never issued.
        ASSERT_FALSE(map.lookup(uid{e.base.first ^ 0x5a5a, e.base.second}));
      }
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
      threads.emplace_back(writer, w);
    for (int r = 0; r < readers; ++r)
      threads.emplace_back(reader, r);
    for (auto& t : threads)
      t.join();
    std::size_t live = 0;
    for (auto& b : boards)
      for (const auto& e : b.live)
        live += e.length;
    EXPECT_EQ(map.size(), live);
    // The map's destructor releases what is still registered.
  }
  auto created = book.next_id.load();
  for (std::uint32_t id = 0; id < created; ++id)
    ASSERT_EQ(book.destroyed[id].load(), 1) << "receiver " << id;
  RecordProperty("hits", static_cast<int>(hits.load()));
  RecordProperty("stale_probes", static_cast<int>(stale_probes.load()));
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(stale_probes.load(), 0u);
}

TEST(endpoint_map_concurrency_test, remove_waits_for_lookups_in_flight_and_the_last_holder_frees) {
  // INV-EPMAP-05: readers hammer the current round's token while it is
  // removed. A lookup that starts after remove returned must fail, a lookup
  // that succeeded holds a live receiver, and whoever drops the last
  // reference frees it, exactly once.
  constexpr int rounds = 100;
  constexpr int readers = 2;
  ledger book{rounds};
  endpoint_map map{7};
  std::vector<uid> tokens(rounds);
  std::atomic<int> current{-1};      // round whose token readers look up
  std::atomic<int> removed_upto{-1}; // rounds <= this were removed
  std::atomic<bool> stop{false};
  std::vector<std::atomic<int>> seen(readers); // last round each reader hit
  for (auto& x : seen)
    x.store(-1);
  std::atomic<std::uint64_t> hits_after_remove{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&, r] {
      while (!stop.load()) {
        auto round = current.load();
        if (round < 0) {
          std::this_thread::yield();
          continue;
        }
        auto was_removed = removed_upto.load() >= round;
        auto found = map.lookup(tokens[round]); // written before `current`
        if (!found) {
          seen[r].store(round);
          continue;
        }
        if (was_removed)
          hits_after_remove.fetch_add(1);
        auto* t = static_cast<tagged*>(found.get());
        ASSERT_EQ(t->id, static_cast<std::uint32_t>(round));
        ASSERT_EQ(t->magic, alive_magic);
        seen[r].store(round);
      }
    });
  for (int round = 0; round < rounds; ++round) {
    auto id = book.next_id.fetch_add(1);
    tokens[round] = map.insert(make_intrusive<tagged>(id, book)).value();
    current.store(round);
    // Remove only once every reader is hammering this round's token.
    for (int r = 0; r < readers; ++r)
      while (seen[r].load() < round)
        std::this_thread::yield();
    ASSERT_TRUE(map.remove(tokens[round]));
    removed_upto.store(round);
  }
  stop.store(true);
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(hits_after_remove.load(), 0u) << "a lookup succeeded after remove returned";
  EXPECT_EQ(map.size(), 0u);
  for (int id = 0; id < rounds; ++id)
    ASSERT_EQ(book.destroyed[id].load(), 1) << "receiver " << id;
}
