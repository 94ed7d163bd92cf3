// A libFuzzer target for the receiver's descriptor checks: arbitrary bytes
// become a slab geometry, slot generations and a run of descriptors; every
// descriptor is checked and the outcome held to the checker's contract. The
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

  for (;;) {
    // A control byte before each descriptor: sometimes the sender reuses a
    // slot (new generation) between descriptors.
    const std::uint8_t control = in.byte();
    if (control & 0x80) {
      auto& g = generations[control % slot_count];
      g.store(g.load() + 1 + (control >> 5 & 1));
    }
    descriptor d;
    if (!in.take(&d, sizeof d))
      break;
    const checked_descriptor checked = checker.check(d);
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
    if (checked.payload.size() != d.length)
      broken("the payload's size is not the descriptor's length");
    const auto* begin = checked.payload.data();
    const bool in_descriptor =
        begin >= d.body && begin + checked.payload.size() <= d.body + sizeof d.body;
    const bool in_slab = !slab.empty() && begin >= slab.data() &&
                         begin + checked.payload.size() <= slab.data() + slab.size();
    if (!in_descriptor && !in_slab && !checked.payload.empty())
      broken("the payload lies outside the descriptor and the slab");
    // Touch every byte: AddressSanitizer checks each read.
    unsigned sum = 0;
    for (auto b : checked.payload)
      sum += static_cast<unsigned>(b);
    if (sum == 0xFFFFFFFF)
      std::abort(); // unreachable; keeps the loop from being optimized away
  }
  return 0;
}
