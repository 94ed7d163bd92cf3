#include "grainflow/endpoints/endpoint_map.hpp"

#include "debug_check.hpp"

#include <limits>
#include <new>
#include <system_error>
#include <thread>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Invariant names (INV-EPMAP-nn) refer to endpoint_map.spec.md beside this file.

namespace grainflow {

namespace {

// -- the slot state word ------------------------------------------------------
//
// bit 0       live: the slot holds a receiver that lookups may return
// bits 1..31  readers: lookups currently between their two RMWs on this word
// bits 32..63 generation: of the run that last occupied the slot
//
// Lookups only ever add and subtract `reader_one`; the registration side only
// changes `live_bit` and the generation, with fetch_add/fetch_sub so that it
// never overwrites a concurrent reader's count.

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "lookups must never block: the slot state word has to be lock-free");
static_assert(std::atomic<endpoint_map::receiver_ptr::element_type*>::is_always_lock_free,
              "chunk and receiver pointers must be lock-free atomics");

constexpr std::uint64_t live_bit = 1;
constexpr std::uint64_t reader_one = 2;
constexpr std::uint64_t reader_mask = 0xfffffffeULL;
constexpr int generation_shift = 32;
constexpr std::uint32_t max_generation = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t no_slot = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t well_known_first = ~std::uint64_t{0};

constexpr bool is_live(std::uint64_t state) noexcept {
  return (state & live_bit) != 0;
}

constexpr std::uint64_t readers_of(std::uint64_t state) noexcept {
  return (state & reader_mask) >> 1;
}

constexpr std::uint32_t generation_of(std::uint64_t state) noexcept {
  return static_cast<std::uint32_t>(state >> generation_shift);
}

// Spins, then yields: a reader holds its count for a few instructions, but the
// OS may preempt it in between, and then spinning would only burn its CPU.
void backoff(int& spins) noexcept {
  if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

std::error_code errc(std::errc x) noexcept {
  return std::make_error_code(x);
}

} // namespace

// -- slots and chunks ---------------------------------------------------------

/// One endpoint. `first`, `receiver` and `run_length` are plain fields: they
/// change only while the slot is not live and no lookup that saw it live is
/// still reading (INV-EPMAP-04), and the state word's release/acquire pairs
/// order those writes against every lookup that reads them.
struct endpoint_map::slot {
  /// See "the slot state word" above.
  std::atomic<std::uint64_t> state{0};

  /// The random half of the current token; ~0 in well-known slots.
  std::uint64_t first = 0;

  /// The map's reference to the receiver, or null.
  ref_counted* receiver = nullptr;

  /// On a run's first slot: the run's length, live or free; 0 elsewhere.
  /// Guarded by mtx_.
  std::uint32_t run_length = 0;

  /// On a free run's first slot: the next free run of the same length.
  /// Guarded by mtx_.
  std::uint32_t next_free = no_slot;

  /// Returns a new reference to the receiver if the slot is live under
  /// `generation` and `token_first`, null otherwise. Any thread, no lock.
  receiver_ptr try_acquire(std::uint32_t generation, std::uint64_t token_first) noexcept {
    // A plain look first, so that lookups of a removed (or stale, or forged)
    // token fail without touching the reader count. Otherwise a slot under a
    // stream of such lookups would rarely show a count of 0, and remove,
    // which waits for 0, could starve. Relaxed: this load only decides
    // whether to try; the RMW below re-checks and provides the ordering.
    auto seen = state.load(std::memory_order_relaxed);
    if (!is_live(seen) || generation_of(seen) != generation)
      return nullptr;
    // acquire: pairs with the release publish in insert (and with the release
    // sequence of RMWs that follows it), so `first` and `receiver` read below
    // are the values the publishing thread wrote. Registering as a reader in
    // the same RMW that reads live and generation is what makes the check and
    // the remover's wait one atomic story (INV-EPMAP-03, INV-EPMAP-05).
    auto prev = state.fetch_add(reader_one, std::memory_order_acquire);
    GRAINFLOW_DEBUG_CHECK(readers_of(prev) < (reader_mask >> 1), "reader count overflow");
    receiver_ptr result;
    if (is_live(prev) && generation_of(prev) == generation && first == token_first)
      result.reset(receiver, true);
    // release: orders our reads of `first`/`receiver` and our ref() before the
    // remover's acquire load that sees the count drop, so the remover neither
    // rewrites the fields under us nor drops the map's reference before ours
    // exists.
    state.fetch_sub(reader_one, std::memory_order_release);
    return result;
  }
};

/// A fixed block of slots. Never freed while the map lives (INV-EPMAP-08).
struct endpoint_map::chunk {
  std::array<slot, chunk_size> slots;
};

// -- constructors, destructors, and assignment operators ----------------------

endpoint_map::endpoint_map(std::uint64_t seed)
    : random_state_{seed}
    , well_known_{std::make_unique<std::array<slot, well_known_count>>()} {
  for (auto& entry : directory_)
    entry.store(nullptr, std::memory_order_relaxed); // not shared yet
  for (auto& s : *well_known_)
    s.first = well_known_first;
}

endpoint_map::~endpoint_map() {
  clear();
  GRAINFLOW_DEBUG_CHECK(size_.load(std::memory_order_relaxed) == 0,
                        "INV-EPMAP-09: clear() must leave no endpoint behind");
  // Relaxed: destruction must not overlap any call, so no thread races us.
  for (auto& entry : directory_)
    delete entry.load(std::memory_order_relaxed);
}

// -- registration -------------------------------------------------------------

result<uid> endpoint_map::insert(receiver_ptr receiver) {
  return insert(std::span<const receiver_ptr>{&receiver, 1});
}

result<uid> endpoint_map::insert(std::span<const receiver_ptr> receivers) {
  if (receivers.empty())
    return errc(std::errc::invalid_argument);
  for (const auto& receiver : receivers)
    if (!receiver)
      return errc(std::errc::invalid_argument);
  if (receivers.size() > capacity)
    return errc(std::errc::not_enough_memory);
  auto length = static_cast<std::uint32_t>(receivers.size());
  std::lock_guard<adaptive_mutex> guard{mtx_};
  run r;
  std::uint32_t generation = 0;
  if (!allocate(length, r, generation))
    return errc(std::errc::not_enough_memory);
  auto token_first = next_random();
  for (std::uint32_t i = 0; i < length; ++i) {
    auto& s = slot_at(r.start + i);
    // Relaxed: we hold mtx_, which orders us after every earlier change of the
    // live bit and generation; readers change only the count.
    auto old = s.state.load(std::memory_order_relaxed);
    GRAINFLOW_DEBUG_CHECK(!is_live(old) && s.receiver == nullptr,
                          "INV-EPMAP-07: a free slot holds no receiver");
    GRAINFLOW_DEBUG_CHECK(generation > generation_of(old),
                          "INV-EPMAP-02: a slot's generation only increases");
    s.first = token_first;
    s.receiver = receivers[i].get();
    s.receiver->ref();
    s.run_length = i == 0 ? length : 0;
    // Unsigned wrap-around makes this set the generation field to
    // `generation` and the live bit, whatever the reader count is.
    auto delta = ((std::uint64_t{generation} - generation_of(old)) << generation_shift) + live_bit;
    // release: publishes first/receiver/ref() above to every lookup whose
    // acquire RMW reads this value or a later one (INV-EPMAP-03).
    s.state.fetch_add(delta, std::memory_order_release);
  }
  // Relaxed: size_ is a statistic; mtx_ orders the writers among themselves.
  size_.fetch_add(length, std::memory_order_relaxed);
  return uid{token_first, std::uint64_t{generation} << generation_shift | r.start};
}

result<void> endpoint_map::insert_well_known(std::uint64_t index, receiver_ptr receiver) {
  if (index >= well_known_count || !receiver)
    return errc(std::errc::invalid_argument);
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto& s = (*well_known_)[index];
  // Relaxed: mtx_ orders us after the last change of the live bit.
  if (is_live(s.state.load(std::memory_order_relaxed)))
    return errc(std::errc::address_in_use);
  GRAINFLOW_DEBUG_CHECK(s.receiver == nullptr, "INV-EPMAP-06: a free slot holds no receiver");
  s.receiver = receiver.release(); // adopt the caller's reference
  // release: as in insert; the generation stays 0 so the token never changes.
  s.state.fetch_add(live_bit, std::memory_order_release);
  size_.fetch_add(1, std::memory_order_relaxed);
  return success();
}

bool endpoint_map::remove(const uid& base, std::size_t count) noexcept {
  if (base.first == well_known_first)
    return count == 1 && is_well_known(base) && remove_well_known(base.second);
  auto index = static_cast<std::uint32_t>(base.second);
  auto generation = static_cast<std::uint32_t>(base.second >> generation_shift);
  if (generation == 0 || count == 0 || count > capacity)
    return false;
  run r{index, static_cast<std::uint32_t>(count)};
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    auto* s = find_slot(index);
    if (s == nullptr)
      return false;
    auto state = s->state.load(std::memory_order_relaxed); // mtx_ orders us
    if (!is_live(state) || generation_of(state) != generation || s->first != base.first ||
        s->run_length != count)
      return false;
    for (std::uint32_t i = 0; i < r.length; ++i)
      detach(slot_at(r.start + i));
    size_.fetch_sub(count, std::memory_order_relaxed);
  }
  // The run is neither live nor on the free list now, so no other thread
  // touches its fields: release outside the lock, then make it reusable.
  release_run(r);
  std::lock_guard<adaptive_mutex> guard{mtx_};
  recycle(r);
  return true;
}

void endpoint_map::clear() noexcept {
  for (std::uint64_t i = 0; i < well_known_count; ++i)
    remove_well_known(i);
  std::uint32_t cursor = 0;
  for (;;) {
    run r;
    {
      std::lock_guard<adaptive_mutex> guard{mtx_};
      if (!detach_next_run(cursor, r))
        return;
    }
    release_run(r);
    std::lock_guard<adaptive_mutex> guard{mtx_};
    recycle(r);
  }
}

// -- lookup -------------------------------------------------------------------

endpoint_map::receiver_ptr endpoint_map::lookup(const uid& token) const noexcept {
  if (token.first == well_known_first) {
    if (token.second >= well_known_count)
      return nullptr;
    return (*well_known_)[token.second].try_acquire(0, well_known_first);
  }
  auto generation = static_cast<std::uint32_t>(token.second >> generation_shift);
  if (generation == 0) // never issued: dynamic generations start at 1
    return nullptr;
  auto* s = find_slot(static_cast<std::uint32_t>(token.second));
  if (s == nullptr)
    return nullptr;
  return s->try_acquire(generation, token.first);
}

std::size_t endpoint_map::size() const noexcept {
  // Relaxed: a statistic; callers needing exactness serialize with writers.
  return size_.load(std::memory_order_relaxed);
}

// -- slot access --------------------------------------------------------------

endpoint_map::slot* endpoint_map::find_slot(std::uint32_t index) const noexcept {
  if (index >= capacity)
    return nullptr;
  // acquire: pairs with the release store in ensure_chunks, so a chunk seen
  // here is fully constructed.
  auto* c = directory_[index >> chunk_bits].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : &c->slots[index & (chunk_size - 1)];
}

endpoint_map::slot& endpoint_map::slot_at(std::uint32_t index) const noexcept {
  auto* s = find_slot(index);
  GRAINFLOW_DEBUG_CHECK(s != nullptr, "slot_at: the slot's chunk must exist");
  return *s;
}

// -- allocation (all under mtx_) ----------------------------------------------

bool endpoint_map::allocate(std::uint32_t length, run& out, std::uint32_t& generation) noexcept {
  for (;;) {
    if (!take_free(length, out) && !take_fresh(length, out) && !take_split(length, out))
      return false;
    std::uint32_t highest = 0;
    for (std::uint32_t i = 0; i < out.length; ++i) {
      // Relaxed: mtx_ orders us after every generation change.
      auto g = generation_of(slot_at(out.start + i).state.load(std::memory_order_relaxed));
      highest = g > highest ? g : highest;
    }
    if (highest < max_generation) {
      generation = highest + 1;
      return true;
    }
    // INV-EPMAP-02: a generation can no longer grow here, so reusing the run
    // could revive a 2^32-reuses-old token. Retire it: it leaves the free
    // list for good, costing capacity, never correctness.
  }
}

bool endpoint_map::take_free(std::uint32_t length, run& out) noexcept {
  auto i = free_heads_.find(length);
  if (i == free_heads_.end())
    return false;
  auto& base = slot_at(i->second);
  out = run{i->second, length};
  i->second = std::exchange(base.next_free, no_slot);
  if (i->second == no_slot)
    free_heads_.erase(i);
  GRAINFLOW_DEBUG_CHECK(base.run_length == length, "INV-EPMAP-07: free runs keep their length");
  return true;
}

bool endpoint_map::take_fresh(std::uint32_t length, run& out) noexcept {
  if (length > capacity - bump_)
    return false;
  out = run{bump_, length};
  if (!ensure_chunks(out))
    return false;
  bump_ += length;
  return true;
}

bool endpoint_map::take_split(std::uint32_t length, run& out) noexcept {
  // Only when fresh slots ran out: split the shortest longer free run.
  auto i = free_heads_.upper_bound(length);
  if (i == free_heads_.end())
    return false;
  run whole;
  if (!take_free(i->first, whole))
    return false;
  out = run{whole.start, length};
  recycle(run{whole.start + length, whole.length - length});
  return true;
}

bool endpoint_map::ensure_chunks(run r) noexcept {
  auto last = (std::size_t{r.start} + r.length - 1) >> chunk_bits;
  for (auto i = std::size_t{r.start} >> chunk_bits; i <= last; ++i) {
    // Relaxed: only mtx_ holders store into the directory.
    if (directory_[i].load(std::memory_order_relaxed) != nullptr)
      continue;
    auto* c = new (std::nothrow) chunk();
    if (c == nullptr)
      return false;
    // release: pairs with the acquire load in find_slot (INV-EPMAP-08).
    directory_[i].store(c, std::memory_order_release);
  }
  return true;
}

void endpoint_map::recycle(run r) noexcept {
  auto& base = slot_at(r.start);
  base.run_length = r.length;
  for (std::uint32_t i = 1; i < r.length; ++i)
    slot_at(r.start + i).run_length = 0;
  try {
    auto& head = free_heads_.try_emplace(r.length, no_slot).first->second;
    base.next_free = std::exchange(head, r.start);
  } catch (...) {
    // Out of memory for a map node: the run is retired, which costs
    // capacity, never correctness.
  }
}

std::uint64_t endpoint_map::next_random() noexcept {
  // splitmix64; ~0 would make the token well-known (INV-EPMAP-01), so draw
  // again in that (2^-64) case.
  for (;;) {
    random_state_ += 0x9e3779b97f4a7c15ULL;
    auto z = random_state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    if (z != well_known_first)
      return z;
  }
}

// -- removal ------------------------------------------------------------------

void endpoint_map::detach(slot& s) noexcept {
  // Relaxed: new lookups fail because every RMW after this one in the word's
  // modification order sees the live bit clear; ordering against the readers
  // already inside comes from the acquire loads below.
  [[maybe_unused]] auto prev = s.state.fetch_sub(live_bit, std::memory_order_relaxed);
  GRAINFLOW_DEBUG_CHECK(is_live(prev), "detach: only live slots are detached");
  // acquire: synchronizes with the release decrement of every lookup that
  // registered before the live bit cleared (all RMWs on the word extend
  // their release sequences), so their ref() and field reads happen before
  // anything we do next (INV-EPMAP-05).
  int spins = 0;
  while (readers_of(s.state.load(std::memory_order_acquire)) != 0)
    backoff(spins);
}

void endpoint_map::release_run(run r) noexcept {
  for (std::uint32_t i = 0; i < r.length; ++i) {
    auto* receiver = std::exchange(slot_at(r.start + i).receiver, nullptr);
    GRAINFLOW_DEBUG_CHECK(receiver != nullptr,
                          "INV-EPMAP-06: each receiver is released exactly once");
    receiver->deref();
  }
}

bool endpoint_map::remove_well_known(std::uint64_t index) noexcept {
  ref_counted* receiver = nullptr;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    auto& s = (*well_known_)[index];
    if (!is_live(s.state.load(std::memory_order_relaxed))) // mtx_ orders us
      return false;
    detach(s);
    // A well-known slot never goes on a free list, so it can give up its
    // pointer here and the release below needs no second lock.
    receiver = std::exchange(s.receiver, nullptr);
    size_.fetch_sub(1, std::memory_order_relaxed);
  }
  GRAINFLOW_DEBUG_CHECK(receiver != nullptr, "INV-EPMAP-06: a live slot holds a receiver");
  receiver->deref();
  return true;
}

bool endpoint_map::detach_next_run(std::uint32_t& cursor, run& out) noexcept {
  while (cursor < bump_) {
    auto& s = slot_at(cursor);
    // Relaxed: mtx_ orders us after every change of the live bit.
    if (!is_live(s.state.load(std::memory_order_relaxed))) {
      ++cursor;
      continue;
    }
    GRAINFLOW_DEBUG_CHECK(s.run_length > 0, "a live run is entered at its first slot");
    out = run{cursor, s.run_length};
    for (std::uint32_t i = 0; i < out.length; ++i)
      detach(slot_at(out.start + i));
    size_.fetch_sub(out.length, std::memory_order_relaxed);
    cursor += out.length;
    return true;
  }
  return false;
}

} // namespace grainflow
