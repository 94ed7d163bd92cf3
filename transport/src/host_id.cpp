#include "host_id.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/mman.h>
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

std::size_t remove_stale_segments(long min_age_seconds) noexcept {
  constexpr std::string_view prefix = "grainflow-shm-";
  std::size_t removed = 0;
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr)
    return 0;
  const auto now = std::time(nullptr);
  while (auto* entry = ::readdir(dir)) {
    std::string_view name{entry->d_name};
    if (!name.starts_with(prefix))
      continue;
    auto rest = name.substr(prefix.size());
    long pid = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 10)
      pid = pid * 10 + (rest[digits++] - '0');
    if (digits == 0 || digits >= rest.size() || rest[digits] != '-' || pid <= 0)
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue; // alive (or not ours to judge)
    struct stat info {};
    if (::fstatat(::dirfd(dir), entry->d_name, &info, 0) != 0 ||
        now - info.st_ctime < min_age_seconds)
      continue;
    std::string path(1, '/');
    path.append(name);
    if (::shm_unlink(path.c_str()) == 0)
      ++removed;
  }
  ::closedir(dir);
  return removed;
}

} // namespace grainflow::detail
