// Scenarios for the stream decoder: any chunking of a valid stream yields the
// same packets; every kind of damage ends the stream with the right error and
// never yields a wrong packet; the steady state does not allocate.

#include "grainflow/transport/packet_decoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

// -- allocation counting ------------------------------------------------------
// Replacing every form of global operator new/delete lets one scenario check
// that decoding in the steady state allocates nothing. All forms are replaced
// so that sanitizers never see a mismatched pair. The deletes stay out of
// line: inlined, g++ would see free() meet operator new and warn.

namespace {
std::atomic<bool> counting_allocations{false};
std::atomic<std::size_t> allocations{0};

void* counted_alloc(std::size_t size, std::size_t alignment = 0) {
  if (counting_allocations.load(std::memory_order_relaxed))
    allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0)
    size = 1;
  if (alignment > alignof(std::max_align_t)) {
    size = (size + alignment - 1) / alignment * alignment;
    return std::aligned_alloc(alignment, size);
  }
  return std::malloc(size);
}
} // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_alloc(size))
    return p;
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_alloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_alloc(size);
}
void* operator new(std::size_t size, std::align_val_t al) {
  if (void* p = counted_alloc(size, static_cast<std::size_t>(al)))
    return p;
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return operator new(size, al);
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(al));
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t,
                                         const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace grainflow {
namespace {

// -- fixtures -------------------------------------------------------------------

struct sample {
  uid token;
  std::vector<std::byte> payload;
  friend bool operator==(const sample& a, const sample& b) {
    return a.token.first == b.token.first && a.token.second == b.token.second &&
           a.payload == b.payload;
  }
};

/// A valid stream of packets and where each begins.
struct stream {
  std::vector<sample> samples;
  std::vector<std::size_t> starts;
  std::vector<std::byte> bytes;

  void add(const uid& token, std::vector<std::byte> payload) {
    starts.push_back(bytes.size());
    append_packet(bytes, token, payload);
    samples.push_back({token, std::move(payload)});
  }
};

std::vector<std::byte> random_payload(std::mt19937_64& rng, std::size_t size) {
  // Eight bytes per draw: the 16 MiB payload stays quick in unoptimised builds.
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return out;
}

uid random_token(std::mt19937_64& rng) {
  return {.first = rng(), .second = rng()};
}

stream random_stream(std::mt19937_64& rng, std::size_t count, std::size_t max_payload) {
  stream s;
  for (std::size_t i = 0; i < count; ++i)
    s.add(random_token(rng), random_payload(rng, rng() % (max_payload + 1)));
  return s;
}

/// Payload sizes around every boundary the decoder cares about.
stream varied_stream() {
  std::mt19937_64 rng{3};
  stream s;
  for (std::size_t size : {0u,  1u,   2u,   3u,   4u,    7u, 8u, 20u,   23u, 24u,
                           25u, 100u, 255u, 256u, 1000u, 0u, 4u, 1500u, 1u,  0u})
    s.add(random_token(rng), random_payload(rng, size));
  return s;
}

/// The outcome of draining a decoder: packets copied out at once (a view lives
/// only until the next call), and the error that stopped it, if any.
struct drained {
  std::vector<sample> samples;
  std::error_code error;
};

void drain(packet_decoder& decoder, drained& out) {
  while (!out.error) {
    auto next = decoder.next();
    if (!next) {
      out.error = next.error();
      return;
    }
    if (!next.value())
      return;
    const packet_view& view = *next.value();
    out.samples.push_back({view.token, {view.payload.begin(), view.payload.end()}});
  }
}

/// Feeds `bytes` in chunks whose sizes `chunk` picks, draining after each.
template <class ChunkSize>
drained feed(packet_decoder& decoder, std::span<const std::byte> bytes, ChunkSize chunk) {
  drained out;
  for (std::size_t pos = 0; pos < bytes.size() && !out.error;) {
    const std::size_t n = std::min(chunk(), bytes.size() - pos);
    decoder.append(bytes.subspan(pos, n));
    pos += n;
    drain(decoder, out);
  }
  drain(decoder, out);
  return out;
}

/// Just the 4-byte length field of a packet header.
std::vector<std::byte> length_field(std::uint32_t length) {
  std::vector<std::byte> out(4);
  detail::store_le32(out.data(), length);
  return out;
}

/// A header with this length field and the rest zero.
std::vector<std::byte> header_with_length(std::uint32_t length) {
  std::vector<std::byte> out(packet_header_size);
  detail::store_le32(out.data(), length);
  return out;
}

// -- valid streams ----------------------------------------------------------------

TEST(packet_decoder, round_trips_empty_one_byte_and_limit_sized_payloads) {
  std::mt19937_64 rng{1};
  stream s;
  s.add(random_token(rng), {});
  s.add(random_token(rng), random_payload(rng, 1));
  s.add(random_token(rng), random_payload(rng, default_max_packet_size - packet_header_size));
  s.add(random_token(rng), random_payload(rng, 1));
  packet_decoder decoder;
  auto out = feed(decoder, s.bytes, [] { return std::size_t{64 * 1024}; });
  EXPECT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.samples.size(), 4u);
  EXPECT_TRUE(out.samples == s.samples);
  EXPECT_EQ(decoder.packets_decoded(), 4u);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(packet_decoder, every_single_split_point_yields_the_same_packets) {
  const stream s = varied_stream();
  const std::span<const std::byte> all{s.bytes};
  for (std::size_t split = 0; split <= all.size(); ++split) {
    packet_decoder decoder;
    drained out;
    decoder.append(all.first(split));
    drain(decoder, out);
    decoder.append(all.subspan(split));
    drain(decoder, out);
    ASSERT_FALSE(out.error) << "split " << split;
    ASSERT_TRUE(out.samples == s.samples) << "split " << split;
    ASSERT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(packet_decoder, one_byte_chunks_yield_the_same_packets) {
  const stream s = varied_stream();
  packet_decoder decoder;
  auto out = feed(decoder, s.bytes, [] { return std::size_t{1}; });
  EXPECT_FALSE(out.error);
  EXPECT_TRUE(out.samples == s.samples);
}

TEST(packet_decoder, random_chunks_yield_the_same_packets) {
  std::mt19937_64 rng{5};
  for (int round = 0; round < 50; ++round) {
    const stream s = random_stream(rng, 40, round % 2 == 0 ? 64 : 5000);
    const std::size_t max_chunk = std::size_t{1} << (rng() % 14);
    packet_decoder decoder;
    auto out = feed(decoder, s.bytes, [&] { return 1 + rng() % max_chunk; });
    ASSERT_FALSE(out.error) << "round " << round;
    ASSERT_TRUE(out.samples == s.samples) << "round " << round;
    ASSERT_EQ(decoder.packets_decoded(), s.samples.size());
  }
}

TEST(packet_decoder, many_packets_in_one_append) {
  std::mt19937_64 rng{6};
  const stream s = random_stream(rng, 10000, 40);
  packet_decoder decoder;
  decoder.append(s.bytes);
  EXPECT_EQ(decoder.buffered_bytes(), s.bytes.size());
  drained out;
  drain(decoder, out);
  EXPECT_FALSE(out.error);
  EXPECT_TRUE(out.samples == s.samples);
  EXPECT_EQ(decoder.packets_decoded(), 10000u);
}

TEST(packet_decoder, socket_reads_through_prepare_and_commit) {
  std::mt19937_64 rng{8};
  const stream s = random_stream(rng, 500, 3000);
  packet_decoder decoder;
  drained out;
  for (std::size_t pos = 0; pos < s.bytes.size();) {
    // A read asks for up to 4 KiB and gets any part of it, as recv() does.
    auto area = decoder.prepare(4096);
    ASSERT_EQ(area.size(), 4096u);
    const std::size_t got = std::min<std::size_t>(rng() % 4097, s.bytes.size() - pos);
    std::copy_n(s.bytes.begin() + static_cast<std::ptrdiff_t>(pos), got, area.begin());
    decoder.commit(got);
    pos += got;
    drain(decoder, out);
  }
  EXPECT_FALSE(out.error);
  EXPECT_TRUE(out.samples == s.samples);
}

TEST(packet_decoder, needs_more_bytes_until_the_packet_is_whole) {
  stream s;
  s.add({.first = 1, .second = 2}, std::vector<std::byte>(10, std::byte{7}));
  packet_decoder decoder;
  for (std::size_t i = 0; i + 1 < s.bytes.size(); ++i) {
    decoder.append(std::span{s.bytes}.subspan(i, 1));
    auto next = decoder.next();
    ASSERT_TRUE(next);
    ASSERT_FALSE(next.value()) << "after " << i + 1 << " bytes";
    EXPECT_EQ(decoder.buffered_bytes(), i + 1);
  }
  decoder.append(std::span{s.bytes}.last(1));
  auto next = decoder.next();
  ASSERT_TRUE(next && next.value());
  EXPECT_EQ(next.value()->token.first, 1u);
  EXPECT_EQ(next.value()->token.second, 2u);
  EXPECT_EQ(next.value()->payload.size(), 10u);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.packets_decoded(), 1u);
}

TEST(packet_decoder, steady_state_allocates_nothing) {
  std::mt19937_64 rng{9};
  const stream s = random_stream(rng, 2000, 1500);
  packet_decoder decoder;
  auto run = [&](std::size_t& decoded) {
    for (std::size_t pos = 0; pos < s.bytes.size();) {
      auto area = decoder.prepare(4096);
      const std::size_t got = std::min<std::size_t>(1 + rng() % 4096, s.bytes.size() - pos);
      std::memcpy(area.data(), s.bytes.data() + pos, got);
      decoder.commit(got);
      pos += got;
      for (auto next = decoder.next(); next && next.value(); next = decoder.next())
        ++decoded;
    }
  };
  std::size_t warm_up = 0;
  run(warm_up);
  std::size_t decoded = 0;
  allocations = 0;
  counting_allocations = true;
  run(decoded);
  counting_allocations = false;
  EXPECT_EQ(warm_up, s.samples.size());
  EXPECT_EQ(decoded, s.samples.size());
  EXPECT_EQ(allocations.load(), 0u);
}

// -- damaged streams ----------------------------------------------------------------

TEST(packet_decoder, length_zero_is_malformed) {
  packet_decoder decoder;
  decoder.append(header_with_length(0));
  EXPECT_EQ(decoder.next().error(), error::malformed_packet);
}

TEST(packet_decoder, length_below_the_header_is_malformed_after_four_bytes) {
  packet_decoder decoder;
  decoder.append(length_field(23));
  EXPECT_EQ(decoder.next().error(), error::malformed_packet);
}

TEST(packet_decoder, length_over_the_limit_is_caught_after_four_bytes) {
  packet_decoder at_limit{1000};
  at_limit.append(length_field(1000));
  auto next = at_limit.next();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next.value()) << "exactly the limit is allowed; it waits for the rest";

  packet_decoder over_limit{1000};
  over_limit.append(length_field(1001));
  EXPECT_EQ(over_limit.next().error(), error::packet_too_large);

  packet_decoder huge;
  huge.append(length_field(0xFFFFFFFFu));
  EXPECT_EQ(huge.next().error(), error::packet_too_large);
}

TEST(packet_decoder, three_bytes_of_a_bad_length_are_not_yet_an_error) {
  packet_decoder decoder;
  const auto field = length_field(0);
  decoder.append(std::span{field}.first(3));
  auto next = decoder.next();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next.value());
}

TEST(packet_decoder, checksum_mismatch_fails_after_the_good_packets) {
  std::mt19937_64 rng{10};
  stream s = random_stream(rng, 3, 50);
  s.bytes[s.starts[2] + 4] ^= std::byte{0x01};
  packet_decoder decoder;
  drained out;
  decoder.append(s.bytes);
  drain(decoder, out);
  EXPECT_EQ(out.error, error::checksum_failed);
  ASSERT_EQ(out.samples.size(), 2u);
  EXPECT_TRUE(out.samples[0] == s.samples[0]);
  EXPECT_TRUE(out.samples[1] == s.samples[1]);
}

TEST(packet_decoder, stays_failed_after_an_error) {
  packet_decoder decoder{1000};
  decoder.append(header_with_length(5000));
  ASSERT_EQ(decoder.next().error(), error::packet_too_large);
  EXPECT_EQ(decoder.error(), error::packet_too_large);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);

  stream good;
  good.add({.first = 1, .second = 1}, {});
  decoder.append(good.bytes);
  EXPECT_EQ(decoder.next().error(), error::packet_too_large);
  auto area = decoder.prepare(good.bytes.size());
  std::copy(good.bytes.begin(), good.bytes.end(), area.begin());
  decoder.commit(area.size());
  EXPECT_EQ(decoder.next().error(), error::packet_too_large);
  EXPECT_EQ(decoder.next().error(), error::packet_too_large);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.packets_decoded(), 0u);
}

/// What a decoder must report for a stream damaged at `pos`: the packets
/// before the damaged one, then this error, or (a length that now reaches
/// past the end) no error and no further packet.
std::error_code expected_error(const stream& s, const std::vector<std::byte>& damaged,
                               std::size_t packet, std::size_t pos, std::size_t limit) {
  if (pos - s.starts[packet] >= 4)
    return error::checksum_failed; // CRC32C catches every burst up to 32 bits
  const std::uint32_t length = detail::load_le32(damaged.data() + s.starts[packet]);
  if (length < packet_header_size)
    return error::malformed_packet;
  if (length > limit)
    return error::packet_too_large;
  if (length > damaged.size() - s.starts[packet])
    return {};
  return error::checksum_failed;
}

TEST(packet_decoder, random_damage_never_yields_a_wrong_packet) {
  constexpr std::size_t limit = 1024;
  std::mt19937_64 rng{0xDA3A6E};
  for (int round = 0; round < 3000; ++round) {
    const stream s = random_stream(rng, 8, 200);
    auto damaged = s.bytes;
    const std::size_t pos = rng() % damaged.size();
    if (rng() % 2 == 0)
      damaged[pos] ^= std::byte{1} << (rng() % 8); // one bit
    else
      damaged[pos] ^= static_cast<std::byte>(1 + rng() % 255); // one byte, changed
    const std::size_t packet =
        static_cast<std::size_t>(std::upper_bound(s.starts.begin(), s.starts.end(), pos) -
                                 s.starts.begin()) -
        1;
    const std::size_t max_chunk = 1 + rng() % 300;

    packet_decoder decoder{limit};
    auto out = feed(decoder, damaged, [&] { return 1 + rng() % max_chunk; });

    SCOPED_TRACE(testing::Message()
                 << "round " << round << " byte " << pos << " packet " << packet);
    ASSERT_EQ(out.samples.size(), packet) << "exactly the packets before the damage";
    for (std::size_t i = 0; i < packet; ++i)
      ASSERT_TRUE(out.samples[i] == s.samples[i]);
    ASSERT_EQ(out.error, expected_error(s, damaged, packet, pos, limit));
    if (out.error) {
      ASSERT_EQ(decoder.next().error(), out.error) << "the decoder stays failed";
    }
  }
}

TEST(packet_decoder, moved_from_decoder_starts_afresh) {
  stream s;
  s.add({.first = 3, .second = 4}, std::vector<std::byte>(5, std::byte{1}));
  packet_decoder a;
  a.append(std::span{s.bytes}.first(10));
  packet_decoder b{std::move(a)};
  EXPECT_EQ(b.buffered_bytes(), 10u);
  b.append(std::span{s.bytes}.subspan(10));
  auto next = b.next();
  ASSERT_TRUE(next && next.value());
  EXPECT_EQ(next.value()->token.second, 4u);

  a = packet_decoder{}; // NOLINT(bugprone-use-after-move): reuse is allowed
  a.append(s.bytes);
  EXPECT_TRUE(a.next().value());
}

} // namespace
} // namespace grainflow
