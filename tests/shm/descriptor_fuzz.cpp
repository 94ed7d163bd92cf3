// A libFuzzer target for the receiver's descriptor checks: arbitrary bytes
// become a slab geometry, slot generations and a run of ring entries; every
// message in it is checked and the outcome held to the checker's contract. The
// slab is exactly as large as its slots, so AddressSanitizer reports any
// payload that reaches outside it. Built with clang by the fuzzing tree
// (tests/fuzz), and replayed on pseudo-random inputs by
// descriptor_fuzz_replay_test in every tree. INV-SLOT-04, INV-SLOT-05.

#include "grainflow/shm/descriptor.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

namespace {

using namespace grainflow::shm;

/// Reads the input front to back; past its end, zeros.
class input {
public:
  input(const std::uint8_t* data, std::size_t size) noexcept
      : data_(data)
      , size_(size) {}

  std::uint8_t byte() noexcept { return at_ < size_ ? data_[at_++] : 0; }

  std::uint32_t u32() noexcept {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
      value |= std::uint32_t{byte()} << (8 * i);
    return value;
  }

  bool take(void* out, std::size_t n) noexcept {
    if (size_ - at_ < n)
      return false;
    std::memcpy(out, data_ + at_, n);
    at_ += n;
    return true;
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "descriptor_fuzz: contract broken: %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in{data, size};
  const std::uint32_t slot_count = 1 + in.byte() % 8;
  const std::uint32_t slot_size = 64 * (1 + in.byte() % 16);
  std::vector<std::atomic<std::uint32_t>> generations(slot_count);
  for (auto& g : generations)
    g.store(in.byte() % 4); // small numbers, so descriptors hit them often
  std::vector<std::byte> slab(std::size_t{slot_count} * slot_size);
  descriptor_checker checker{slab.data(), slot_size, slot_count, generations.data()};
  std::set<std::pair<std::uint32_t, std::uint32_t>> handed_back;

  // Then (control byte, 64-byte entry) pairs: the ring's entries as the
  // receiver copied them, and before each, maybe a reuse of some slot by the
  // sender (a new generation).
  std::vector<std::uint8_t> controls;
  std::vector<descriptor> entries;
  for (;;) {
    const std::uint8_t control = in.byte();
    descriptor d;
    if (!in.take(&d, sizeof d))
      break;
    controls.push_back(control);
    entries.push_back(d);
  }
  for (std::size_t i = 0; i < entries.size();) {
    if (controls[i] & 0x80) {
      auto& g = generations[controls[i] % slot_count];
      g.store(g.load() + 1 + (controls[i] >> 5 & 1));
    }
    const std::span<const descriptor> rest{entries.data() + i, entries.size() - i};
    const checked_descriptor checked = checker.check(rest);
    if (checked.entries < 1 || checked.entries > rest.size())
      broken("a message occupies no entries or more than there are");
    i += checked.entries;
    if (checked.return_slot) {
      if (checked.slot >= slot_count)
        broken("a slot out of range is handed back");
      if (checked.generation != generations[checked.slot].load())
        broken("a slot is handed back under a generation it does not have");
      if (!handed_back.insert({checked.slot, checked.generation}).second)
        broken("a slot is handed back twice under one generation");
    }
    if (checked.fault != descriptor_fault::none) {
      if (!checked.payload.empty())
        broken("a rejected descriptor has a payload");
      continue;
    }
    if (checked.payload.size() != rest.front().length)
      broken("the payload's size is not the descriptor's length");
    const auto* begin = checked.payload.data();
    const auto* end = begin + checked.payload.size();
    const auto* entries_begin = reinterpret_cast<const std::byte*>(rest.data());
    const auto* entries_end = reinterpret_cast<const std::byte*>(rest.data() + checked.entries);
    const bool in_entries = begin >= entries_begin && end <= entries_end;
    const bool in_slab = begin >= slab.data() && end <= slab.data() + slab.size();
    if (!in_entries && !in_slab && !checked.payload.empty())
      broken("the payload lies outside its entries and the slab");
    // Touch every byte: AddressSanitizer checks each read.
    unsigned sum = 0;
    for (auto b : checked.payload)
      sum += static_cast<unsigned>(b);
    if (sum == 0xFFFFFFFF)
      std::abort(); // unreachable; keeps the loop from being optimized away
  }
  return 0;
}
