// Creating, opening, checking and removing segments in /dev/shm.

#include "grainflow/shm/segment.hpp"

#include "grainflow/endpoints/error.hpp"

#include "posix.hpp"
#include "shm_check.hpp"

#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace grainflow::shm {

namespace {

using detail::last_system_error;
using detail::posix_call;
using detail::unique_fd;

constexpr std::size_t random_digits = 16;

result<std::string> fresh_name() {
  std::uint64_t bits = 0;
  if (auto ec = detail::random_u64(bits))
    return failure(ec);
  // snprintf, not string concatenation: g++ 12 -O2 reports a false
  // -Wrestrict in the inlined std::string operator+ chain.
  char name[64];
  std::snprintf(name, sizeof name, "/%.*s%d-%0*llx", static_cast<int>(segment_name_prefix.size()),
                segment_name_prefix.data(), static_cast<int>(::getpid()),
                static_cast<int>(random_digits), static_cast<unsigned long long>(bits));
  return std::string{name};
}

/// The pid part of a valid name (without the leading '/'), or 0.
pid_t pid_of(std::string_view entry) noexcept {
  entry.remove_prefix(segment_name_prefix.size());
  pid_t pid = 0;
  auto [end, error] = std::from_chars(entry.data(), entry.data() + entry.size(), pid);
  return error == std::errc{} && end != entry.data() ? pid : 0;
}

result<void*> map(int fd, std::uint64_t bytes) noexcept {
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED)
    return failure(last_system_error());
  return base;
}

static_assert(offsetof(segment_header, fields) == 0, "the fixed fields open the segment");

/// Writes the header of a fresh (zero-filled) segment.
void write_header(void* base, const segment_geometry& g) noexcept {
  // Construct the header (and with it every atomic) in place; the file is
  // zero-filled by ftruncate, which is also the value of every field not set
  // here.
  auto* header = ::new (base) segment_header{};
  header->fields =
      segment_fields{segment_magic,     segment_version, sizeof(segment_header), g.ring_capacity,
                     g.return_capacity, g.slot_size,     g.slot_count,           g.total_bytes};
  for (std::size_t s = 0; s < 2; ++s) {
    auto* generations = static_cast<std::byte*>(base) + g.generations_offset[s];
    for (std::uint32_t i = 0; i < g.slot_count; ++i)
      ::new (generations + i * sizeof(std::uint32_t)) std::atomic<std::uint32_t>{0};
  }
}

/// Checks a copy of a mapped header against the file's size; returns the
/// geometry both sides will use.
result<segment_geometry> check_header(const segment_fields& copy, std::uint64_t file_bytes) {
  if (copy.magic != segment_magic)
    return failure(make_error_code(error::malformed_packet));
  if (copy.version != segment_version)
    return failure(make_error_code(error::incompatible_protocol));
  if (copy.header_bytes != sizeof(segment_header))
    return failure(make_error_code(error::malformed_packet));
  auto geometry = segment_geometry::compute({copy.ring_capacity, copy.slot_size, copy.slot_count});
  if (!geometry || geometry.value().return_capacity != copy.return_capacity ||
      geometry.value().total_bytes != copy.total_bytes ||
      geometry.value().total_bytes != file_bytes)
    return failure(make_error_code(error::malformed_packet));
  return geometry;
}

/// True when process `pid` has ended: it does not exist, or it is a zombie
/// (dead, not yet reaped by its parent). EPERM means it lives under another
/// user.
bool process_gone(pid_t pid) noexcept {
  if (::kill(pid, 0) != 0)
    return errno == ESRCH;
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(path, "re"), &std::fclose};
  if (!file)
    return false;
  char line[512];
  if (std::fgets(line, sizeof line, file.get()) == nullptr)
    return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold one).
  const char* close = std::strrchr(line, ')');
  return close != nullptr && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

/// Removes the segments in /dev/shm of a creator that no longer exists
/// (`only` of them, or any if 0) and at least `min_age` old.
std::size_t remove_matching(pid_t only, std::chrono::seconds min_age) noexcept {
  std::unique_ptr<DIR, int (*)(DIR*)> dir{::opendir("/dev/shm"), &::closedir};
  if (!dir)
    return 0;
  std::size_t removed = 0;
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = std::string{"/"} + entry->d_name;
    if (!segment::valid_name(name))
      continue;
    const pid_t pid = pid_of(entry->d_name);
    if (pid <= 0 || (only != 0 && pid != only))
      continue;
    if (!process_gone(pid))
      continue;
    struct stat info {};
    if (::fstatat(::dirfd(dir.get()), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
        now - info.st_mtime < min_age.count())
      continue;
    if (::shm_unlink(name.c_str()) == 0)
      ++removed;
  }
  return removed;
}

} // namespace

// -- constructors -------------------------------------------------------------

segment::segment(std::string name, void* base, const segment_geometry& geometry) noexcept
    : name_(std::move(name))
    , base_(base)
    , geometry_(geometry) {}

segment::segment(segment&& other) noexcept
    : name_(std::move(other.name_))
    , base_(std::exchange(other.base_, nullptr))
    , geometry_(other.geometry_) {}

segment& segment::operator=(segment&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr)
      ::munmap(base_, geometry_.total_bytes);
    name_ = std::move(other.name_);
    base_ = std::exchange(other.base_, nullptr);
    geometry_ = other.geometry_;
  }
  return *this;
}

segment::~segment() {
  if (base_ != nullptr)
    ::munmap(base_, geometry_.total_bytes);
}

result<segment> segment::create(const segment_config& config) {
  auto geometry = segment_geometry::compute(config);
  if (!geometry)
    return failure(geometry.error());
  auto name = fresh_name();
  if (!name)
    return failure(name.error());
  // O_EXCL: never adopt an existing file, even one a hostile process planted
  // under a name it guessed.
  unique_fd fd{posix_call([&] {
    return ::shm_open(name.value().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  })};
  if (!fd.valid())
    return failure(last_system_error());
  auto fail = [&](std::error_code ec) -> result<segment> {
    ::shm_unlink(name.value().c_str());
    return failure(ec);
  };
  const auto bytes = geometry.value().total_bytes;
  if (posix_call([&] { return ::ftruncate(fd.get(), static_cast<off_t>(bytes)); }) != 0)
    return fail(last_system_error());
  auto base = map(fd.get(), bytes);
  if (!base)
    return fail(base.error());
  write_header(base.value(), geometry.value());
  return segment{std::move(name.value()), base.value(), geometry.value()};
}

result<segment> segment::open(std::string_view name) {
  if (!valid_name(name))
    return failure(std::make_error_code(std::errc::invalid_argument));
  const std::string path{name};
  unique_fd fd{posix_call([&] { return ::shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0); })};
  if (!fd.valid())
    return failure(last_system_error());
  struct stat info {};
  if (posix_call([&] { return ::fstat(fd.get(), &info); }) != 0)
    return failure(last_system_error());
  const auto file_bytes = static_cast<std::uint64_t>(info.st_size);
  if (file_bytes < sizeof(segment_header) || file_bytes > max_segment_bytes)
    return failure(make_error_code(error::malformed_packet));
  auto base = map(fd.get(), file_bytes);
  if (!base)
    return failure(base.error());
  // From here the mapping belongs to a segment object, so every path unmaps.
  segment_geometry provisional;
  provisional.total_bytes = file_bytes;
  segment mapped{path, base.value(), provisional};
  // A copy, checked once: the creator could change the mapped header later,
  // but nothing reads those fields again (INV-RING-03 applies to all shared
  // input).
  segment_fields copy;
  std::memcpy(&copy, base.value(), sizeof copy);
  auto geometry = check_header(copy, file_bytes);
  if (!geometry)
    return failure(geometry.error());
  mapped.geometry_ = geometry.value();
  return mapped;
}

// -- properties ---------------------------------------------------------------

descriptor* segment::message_ring(side sender) const noexcept {
  return reinterpret_cast<descriptor*>(static_cast<std::byte*>(base_) +
                                       geometry_.message_ring_offset[index_of(sender)]);
}

std::uint64_t* segment::return_ring(side owner) const noexcept {
  return reinterpret_cast<std::uint64_t*>(static_cast<std::byte*>(base_) +
                                          geometry_.return_ring_offset[index_of(owner)]);
}

std::atomic<std::uint32_t>* segment::generations(side owner) const noexcept {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(
      static_cast<std::byte*>(base_) + geometry_.generations_offset[index_of(owner)]);
}

std::byte* segment::slab(side owner) const noexcept {
  return static_cast<std::byte*>(base_) + geometry_.slab_offset[index_of(owner)];
}

// -- operations ---------------------------------------------------------------

result<void> segment::protect_slab(side owner) noexcept {
  // Slabs start on a page and the next region starts on the next page
  // boundary after the slab, so whole pages are protected.
  const auto bytes = (geometry_.slab_bytes + page_size - 1) / page_size * page_size;
  if (::mprotect(slab(owner), bytes, PROT_READ) != 0)
    return failure(last_system_error());
  return success();
}

result<void> segment::unlink(std::string_view name) noexcept {
  if (!valid_name(name))
    return failure(std::make_error_code(std::errc::invalid_argument));
  char path[NAME_MAX + 1];
  std::memcpy(path, name.data(), name.size());
  path[name.size()] = '\0';
  if (::shm_unlink(path) != 0 && errno != ENOENT)
    return failure(last_system_error());
  return success();
}

bool segment::valid_name(std::string_view name) noexcept {
  if (name.size() > NAME_MAX || !name.starts_with('/'))
    return false;
  name.remove_prefix(1);
  if (!name.starts_with(segment_name_prefix))
    return false;
  name.remove_prefix(segment_name_prefix.size());
  const auto dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 10)
    return false;
  for (char c : name.substr(0, dash))
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  const auto hex = name.substr(dash + 1);
  if (hex.size() != random_digits)
    return false;
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::size_t segment::remove_stale(std::chrono::seconds min_age) noexcept {
  return remove_matching(0, min_age);
}

std::size_t segment::remove_left_by(int creator) noexcept {
  return creator > 0 ? remove_matching(creator, std::chrono::seconds{0}) : 0;
}

} // namespace grainflow::shm
