// Segments in /dev/shm: creation, the layout both sides compute, names, and
// the sweep of segments whose creator died before anyone removed them.
// INV-LIVE-05.

#include "grainflow/shm/segment.hpp"

#include "link_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace grainflow::shm;
using namespace grainflow::shm::test;

TEST(segment, create_lays_out_and_open_sees_the_same) {
  auto created = segment::create({64, 4096, 8});
  ASSERT_TRUE(created) << created.error().message();
  const std::string name = created.value().name();
  EXPECT_TRUE(segment::valid_name(name));
  EXPECT_TRUE(in_dev_shm(name));
  auto opened = segment::open(name);
  ASSERT_TRUE(opened) << opened.error().message();
  const auto& g = opened.value().geometry();
  EXPECT_EQ(g.total_bytes, created.value().geometry().total_bytes);
  EXPECT_EQ(g.return_capacity, 8u);
  EXPECT_EQ(g.slab_offset[1] - g.slab_offset[0], 8u * 4096);
  EXPECT_EQ(g.slab_offset[0] % page_size, 0u);
  // One memory: what one mapping writes, the other reads.
  created.value().slab(side::creator)[5] = std::byte{42};
  EXPECT_EQ(opened.value().slab(side::creator)[5], std::byte{42});
  EXPECT_EQ(opened.value().header().fields.magic, segment_magic);
  EXPECT_TRUE(segment::unlink(name));
  EXPECT_TRUE(segment::unlink(name)); // already gone counts as removed
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(segment, names_are_fresh_and_well_formed) {
  auto a = segment::create({4, 64, 1}).value();
  auto b = segment::create({4, 64, 1}).value();
  EXPECT_NE(a.name(), b.name());
  EXPECT_TRUE(a.name().starts_with("/grainflow-shm-" + std::to_string(::getpid()) + "-"));
  EXPECT_TRUE(segment::unlink(a.name()));
  EXPECT_TRUE(segment::unlink(b.name()));
}

TEST(segment, geometry_limits) {
  EXPECT_TRUE(segment_config{}.validate());
  EXPECT_TRUE((segment_config{4, 64, 1}.validate()));
  EXPECT_TRUE((segment_config{1u << 20, 1u << 20, 1024}.validate()));
  EXPECT_FALSE((segment_config{1u << 21, 64, 1}.validate()));
  EXPECT_FALSE((segment_config{2, 64, 1}.validate())); // the largest inline message takes 4
  EXPECT_FALSE((segment_config{8, 96 + 1, 1}.validate()));
  EXPECT_FALSE((segment_config{8, 1u << 30, 1u << 16}.validate())); // 2 x 64 TiB
}

/// A pid that belonged to a process that has ended (and was reaped).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

/// Leaves a segment-shaped file in /dev/shm under `pid`'s name.
std::string leave_segment_of(pid_t pid) {
  const std::string name = "/grainflow-shm-" + std::to_string(pid) + "-00000000deadbeef";
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  ::close(fd);
  return name;
}

TEST(segment, segments_of_dead_creators_are_swept) {
  const pid_t dead = dead_pid();
  const std::string left = leave_segment_of(dead);
  auto mine = segment::create({4, 64, 1}).value(); // a live creator: kept
  EXPECT_EQ(segment::remove_left_by(::getpid()), 0u);
  EXPECT_TRUE(in_dev_shm(mine.name()));
  EXPECT_EQ(segment::remove_stale(std::chrono::seconds{3600}), 0u); // too young
  EXPECT_TRUE(in_dev_shm(left));
  EXPECT_EQ(segment::remove_left_by(dead), 1u);
  EXPECT_FALSE(in_dev_shm(left));
  const std::string again = leave_segment_of(dead);
  EXPECT_GE(segment::remove_stale(std::chrono::seconds{0}), 1u);
  EXPECT_FALSE(in_dev_shm(again));
  EXPECT_TRUE(in_dev_shm(mine.name()));
  EXPECT_TRUE(segment::unlink(mine.name()));
}

} // namespace
