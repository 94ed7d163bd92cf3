// Scenarios for CRC32C: the published check values pin both implementations,
// and the hardware path must agree with the portable one on any input.

#include "grainflow/transport/crc32c.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

namespace grainflow {
namespace {

using crc_function = std::uint32_t (*)(std::uint32_t, std::span<const std::byte>) noexcept;

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<std::byte> filled(std::size_t size, unsigned value) {
  return std::vector<std::byte>(size, static_cast<std::byte>(value));
}

std::vector<std::byte> counting(std::size_t size, int start, int step) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < size; ++i)
    out.push_back(static_cast<std::byte>(start + step * static_cast<int>(i)));
  return out;
}

std::vector<std::byte> random_bytes(std::mt19937_64& rng, std::size_t size) {
  std::vector<std::byte> out(size);
  for (auto& b : out)
    b = static_cast<std::byte>(rng());
  return out;
}

// RFC 3720, appendix B.4, and the customary check string.
struct check_value {
  const char* name;
  std::vector<std::byte> data;
  std::uint32_t crc;
};

std::vector<check_value> check_values() {
  // The 48-byte iSCSI SCSI Read (10) command PDU of B.4.
  const std::array<unsigned, 48> read_command{
      0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::vector<std::byte> command;
  for (unsigned b : read_command)
    command.push_back(static_cast<std::byte>(b));
  return {
      {"32 zero bytes", filled(32, 0x00), 0x8A9136AAu},
      {"32 0xFF bytes", filled(32, 0xFF), 0x62A8AB43u},
      {"32 incrementing bytes", counting(32, 0, 1), 0x46DD794Eu},
      {"32 decrementing bytes", counting(32, 31, -1), 0x113FDB5Cu},
      {"iSCSI read command", command, 0xD9963A56u},
      {"123456789", bytes_of("123456789"), 0xE3069283u},
  };
}

void expect_check_values(crc_function crc) {
  for (const auto& check : check_values()) {
    SCOPED_TRACE(check.name);
    EXPECT_EQ(crc(0, check.data), check.crc);
  }
}

TEST(crc32c, portable_matches_rfc3720_vectors) {
  expect_check_values(&detail::crc32c_portable);
}

TEST(crc32c, hardware_matches_rfc3720_vectors) {
  if (!detail::crc32c_hardware_available())
    GTEST_SKIP() << "this CPU has no SSE4.2";
  expect_check_values(&detail::crc32c_hardware);
}

TEST(crc32c, dispatched_matches_rfc3720_vectors) {
  for (const auto& check : check_values()) {
    SCOPED_TRACE(check.name);
    EXPECT_EQ(crc32c(check.data), check.crc);
    EXPECT_EQ(crc32c_extend(0, check.data), check.crc);
  }
}

TEST(crc32c, no_bytes_leave_the_crc_unchanged) {
  EXPECT_EQ(crc32c({}), 0u);
  EXPECT_EQ(crc32c_extend(0xE3069283u, {}), 0xE3069283u);
  EXPECT_EQ(detail::crc32c_portable(0x12345678u, {}), 0x12345678u);
  if (detail::crc32c_hardware_available()) {
    EXPECT_EQ(detail::crc32c_hardware(0x12345678u, {}), 0x12345678u);
  }
}

TEST(crc32c, hardware_equals_portable_on_random_lengths_and_alignments) {
  if (!detail::crc32c_hardware_available())
    GTEST_SKIP() << "this CPU has no SSE4.2";
  std::mt19937_64 rng{0xC5C32C};
  const auto pool = random_bytes(rng, 4096 + 64);
  for (int i = 0; i < 3000; ++i) {
    const std::size_t offset = rng() % 64;
    const std::size_t size = rng() % 4097;
    const std::uint32_t seed = (i % 2 == 0) ? 0u : static_cast<std::uint32_t>(rng());
    const auto data = std::span{pool}.subspan(offset, size);
    ASSERT_EQ(detail::crc32c_hardware(seed, data), detail::crc32c_portable(seed, data))
        << "offset " << offset << " size " << size;
  }
}

TEST(crc32c, hardware_equals_portable_on_large_buffers) {
  if (!detail::crc32c_hardware_available())
    GTEST_SKIP() << "this CPU has no SSE4.2";
  // Large enough for the three-lane loops over 8 KiB and 256-byte lanes, with
  // every kind of remainder behind them.
  std::mt19937_64 rng{42};
  const auto pool = random_bytes(rng, 200 * 1024);
  for (std::size_t size : {767u, 768u, 769u, 24575u, 24576u, 24577u, 25343u, 49160u, 200000u}) {
    for (std::size_t offset = 0; offset < 9; ++offset) {
      const auto data = std::span{pool}.subspan(offset, size);
      ASSERT_EQ(detail::crc32c_hardware(0, data), detail::crc32c_portable(0, data))
          << "offset " << offset << " size " << size;
    }
  }
}

TEST(crc32c, extend_over_every_split_equals_the_whole) {
  std::mt19937_64 rng{7};
  const auto data = random_bytes(rng, 1000);
  const std::span<const std::byte> all{data};
  const std::uint32_t whole = crc32c(all);
  std::vector<crc_function> functions{&detail::crc32c_portable, &crc32c_extend};
  if (detail::crc32c_hardware_available())
    functions.push_back(&detail::crc32c_hardware);
  for (auto crc : functions) {
    ASSERT_EQ(crc(0, all), whole);
    for (std::size_t split = 0; split <= all.size(); ++split)
      ASSERT_EQ(crc(crc(0, all.first(split)), all.subspan(split)), whole) << "split " << split;
  }
}

TEST(crc32c, extend_over_many_random_pieces_equals_the_whole) {
  std::mt19937_64 rng{11};
  const auto data = random_bytes(rng, 64 * 1024);
  const std::span<const std::byte> all{data};
  const std::uint32_t whole = detail::crc32c_portable(0, all);
  for (int round = 0; round < 20; ++round) {
    std::uint32_t crc = 0;
    for (std::size_t pos = 0; pos < all.size();) {
      const std::size_t piece = std::min<std::size_t>(rng() % 3000, all.size() - pos);
      crc = crc32c_extend(crc, all.subspan(pos, piece));
      pos += piece;
    }
    ASSERT_EQ(crc, whole);
  }
}

TEST(crc32c, first_use_from_many_threads_agrees) {
  // In its own process (ctest runs each test alone) this is the first call,
  // so the threads race to initialise the dispatcher.
  const auto data = bytes_of("123456789");
  std::vector<std::uint32_t> results(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] { results[i] = crc32c(data); });
  for (auto& t : threads)
    t.join();
  for (auto r : results)
    EXPECT_EQ(r, 0xE3069283u);
}

} // namespace
} // namespace grainflow
