// Runs the libFuzzer target's body (descriptor_fuzz.cpp) on pseudo-random
// inputs in the ordinary test trees, so its contract checks run under
// AddressSanitizer with every build, not only in the clang fuzzing tree.

#include "grainflow/shm/descriptor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace grainflow::shm;

/// A descriptor that is nearly valid: a known kind, small slot numbers and
/// generations, lengths around the limits, so the checks past the first
/// ones run too.
descriptor plausible(std::mt19937_64& random) {
  const auto r = random();
  if (r % 2 == 0) {
    std::vector<std::byte> payload(r % (descriptor_inline_capacity + 1));
    descriptor d = make_inline_descriptor(payload);
    if (r % 7 == 0) // continuations claimed, whether or not they follow
      d.length = static_cast<std::uint32_t>(random() % (max_inline_payload + 20));
    return d;
  }
  const std::uint32_t slot = static_cast<std::uint32_t>(random() % 10);
  const std::uint32_t generation = static_cast<std::uint32_t>(random() % 5);
  const std::uint32_t offset = r % 3 == 0 ? static_cast<std::uint32_t>(random()) : random() % 64;
  const std::uint32_t length = r % 5 == 0 ? static_cast<std::uint32_t>(random())
                                          : static_cast<std::uint32_t>(random() % 1100);
  return make_slot_descriptor({slot, generation, offset}, length);
}

TEST(descriptor_fuzz, the_target_holds_its_contract_on_random_inputs) {
  std::mt19937_64 random{20240601};
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::uint8_t> input;
    for (int i = 0; i < 2 + 8; ++i)
      input.push_back(static_cast<std::uint8_t>(random()));
    const int descriptors = static_cast<int>(random() % 12);
    for (int i = 0; i < descriptors; ++i) {
      input.push_back(static_cast<std::uint8_t>(random()));
      descriptor d = plausible(random);
      if (round % 3 == 0) // and some plain noise
        for (auto& b : d.body)
          b = static_cast<std::byte>(random());
      const auto* bytes = reinterpret_cast<const std::uint8_t*>(&d);
      input.insert(input.end(), bytes, bytes + sizeof d);
    }
    ASSERT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
}

} // namespace
