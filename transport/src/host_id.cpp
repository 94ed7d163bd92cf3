#include "host_id.hpp"

#include <cstdint>
#include <fstream>
#include <string>
#include <sys/stat.h>

namespace grainflow::detail {

namespace {

// FNV-1a, 64 bits, over `text` from `seed`.
std::uint64_t fnv1a(const std::string& text, std::uint64_t seed) noexcept {
  std::uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

} // namespace

uid local_host_id() noexcept {
  try {
    std::ifstream in{"/proc/sys/kernel/random/boot_id"};
    std::string boot;
    if (!(in >> boot) || boot.empty())
      return {};
    struct stat ns {};
    if (::stat("/proc/self/ns/net", &ns) != 0)
      return {};
    // Appends, not operator+: GCC 12 warns (-Wrestrict) on the chain.
    std::string text = boot;
    text.append(1, '/').append(std::to_string(ns.st_dev));
    text.append(1, ':').append(std::to_string(ns.st_ino));
    uid out{fnv1a(text, 0xcbf29ce484222325ULL), fnv1a(text, 0x84222325cbf29ce4ULL)};
    if (!out.valid())
      out.second = 1;
    return out;
  } catch (...) {
    return {};
  }
}

} // namespace grainflow::detail
