// Session keys (session_key.hpp; docs/protocol.md, "Session keys and
// resuming"): derivation, then scenarios in which two processes read each
// other's handshakes in every order — crossing, lost, after a restart, after a
// give-up — and must end up holding the same key, restarting a session only
// when one side really lost it.

#include "grainflow/transport/session_key.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace grainflow {
namespace {

const uid inc_a{0x1111u, 0x2222u};
const uid inc_a_restarted{0x5555u, 0x6666u};
const uid inc_b{0x3333u, 0x4444u};

// One process's view of its session with the other: what the peer keeps.
struct side {
  explicit side(uid incarnation)
      : own(incarnation) {}

  uid own;
  session_standing standing;
  int restarts = 0;

  uid hello() const { return hello_session_key(own, standing); }

  // Reads the other side's handshake (as acceptor before answering, or as
  // dialer on the answer) and returns the key the connection carries.
  uid read(const side& from) { return read(from.own, from.hello()); }

  uid read(const uid& their_incarnation, const uid& their_key) {
    auto settled = settle_session(own, standing, their_incarnation, their_key);
    restarts += settled.restart ? 1 : 0;
    standing = settled.next;
    return settled.key;
  }

  uid key() const { return standing.held ? hello() : uid{}; }
};

// One whole handshake: the acceptor reads the dialer's hello and answers; the
// dialer reads the answer.
void handshake(side& dialer, side& acceptor) {
  const auto dialer_hello = dialer.hello();
  const auto answered = acceptor.read(dialer.own, dialer_hello);
  EXPECT_EQ(dialer.read(acceptor.own, acceptor.hello()), answered);
}

// Both sides hold the session of `generation` between them.
void expect_both_hold(const side& x, const side& y, std::uint64_t generation) {
  EXPECT_EQ(x.key(), session_key_for(x.own, y.own, generation));
  EXPECT_EQ(y.key(), x.key());
}

// Both dial at once: each accepts the other's hello, sent before either read
// anything, then each reads the answer to its own dial. Both connections must
// carry the same key.
void crossing_handshakes(side& x, side& y) {
  const auto x_hello = x.hello();
  const auto y_hello = y.hello();
  const auto at_y = y.read(x.own, x_hello);
  const auto at_x = x.read(y.own, y_hello);
  EXPECT_EQ(at_x, at_y);
  EXPECT_EQ(x.read(y), at_x);
  EXPECT_EQ(y.read(x), at_y);
}

TEST(session_key, the_pair_id_is_symmetric_and_never_zero) {
  EXPECT_EQ(session_pair_id(inc_a, inc_b), session_pair_id(inc_b, inc_a));
  EXPECT_NE(session_pair_id(inc_a, inc_b), session_pair_id(inc_a_restarted, inc_b));
  EXPECT_NE(session_pair_id(uid{}, uid{}), 0u);
  // Pinned: docs/protocol.md quotes this value for incarnations [1, 2] and [3, 4].
  EXPECT_EQ(session_pair_id(uid{1, 2}, uid{3, 4}), 0xde59611246bc83f8u);
  EXPECT_EQ(session_key_for(inc_b, inc_a, 7), (uid{session_pair_id(inc_a, inc_b), 7}));
}

TEST(session_key, a_process_that_knows_nobody_names_no_session) {
  side a{inc_a};
  EXPECT_FALSE(a.hello().valid());
  a.standing.give_up(); // nothing held: nothing to give up
  EXPECT_EQ(a.standing, session_standing{});
}

TEST(session_key, a_first_handshake_starts_generation_zero_on_both_sides) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  expect_both_hold(a, b, 0);
  EXPECT_EQ(a.restarts + b.restarts, 0);
}

TEST(session_key, crossing_first_handshakes_agree_without_a_restart) {
  side a{inc_a};
  side b{inc_b};
  crossing_handshakes(a, b); // neither knew the other yet
  EXPECT_EQ(a.key(), session_key_for(inc_a, inc_b, 0));
  EXPECT_EQ(a.restarts + b.restarts, 0);
}

// The split the simulator found (kv 2992; calculator 542, 2038, 2339; kv 2860
// on an older build): B resumes its session with A's previous incarnation; the
// restarted A answers on a connection that dies, while B learns of the restart
// through A's own dial. With drawn keys each side kept its own fresh key.
TEST(session_key, a_restart_with_a_lost_answer_and_a_crossing_dial_leaves_one_key) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  a.standing.give_up(); // some history: generation 1
  handshake(a, b);
  ASSERT_EQ(b.key(), session_key_for(inc_a, inc_b, 1));
  const int b_restarts = b.restarts;

  side a2{inc_a_restarted}; // A restarts: a new incarnation knows nobody
  // B's resume attempt reaches A2, whose answer is lost with the connection.
  const auto answered = a2.read(b);
  EXPECT_EQ(answered, session_key_for(inc_a_restarted, inc_b, 0));
  // A2's own dial reaches B, which learns of the restart from it.
  b.read(a2);
  EXPECT_EQ(b.restarts, b_restarts + 1); // the old session is gone, once
  EXPECT_EQ(b.key(), answered);
  // B's answer reaches A2: nothing to settle.
  EXPECT_EQ(a2.read(b), answered);
  // And every later handshake, in either direction, resumes.
  handshake(b, a2);
  handshake(a2, b);
  EXPECT_EQ(b.restarts, b_restarts + 1);
  EXPECT_EQ(a2.restarts, 0);
  EXPECT_EQ(a2.key(), b.key());
}

TEST(session_key, a_restarted_dialer_that_knew_nobody_is_settled_by_the_answer) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  side a2{inc_a_restarted};
  // A2 dials before knowing B; B's resume attempt crosses it.
  EXPECT_FALSE(a2.hello().valid());
  crossing_handshakes(a2, b);
  EXPECT_EQ(b.key(), session_key_for(inc_a_restarted, inc_b, 0));
  EXPECT_EQ(b.restarts, 1);
  EXPECT_EQ(a2.restarts, 0);
}

TEST(session_key, a_session_one_side_gave_up_is_gone_on_both_sides) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  a.standing.give_up(); // A's resume window ran out
  EXPECT_FALSE(a.key().valid());
  EXPECT_EQ(a.hello(), session_key_for(inc_a, inc_b, 1)); // the next one
  // B resumes the old one: A's answer tells it that it is gone.
  handshake(b, a);
  EXPECT_EQ(b.restarts, 1);
  EXPECT_EQ(a.restarts, 0);
  expect_both_hold(a, b, 1);
}

TEST(session_key, crossing_handshakes_after_a_give_up_restart_the_other_side_once) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  a.standing.give_up();
  crossing_handshakes(a, b);
  EXPECT_EQ(b.restarts, 1);
  EXPECT_EQ(a.restarts, 0);
  expect_both_hold(a, b, 1);
}

TEST(session_key, both_sides_giving_up_meet_in_the_next_generation) {
  side a{inc_a};
  side b{inc_b};
  handshake(a, b);
  a.standing.give_up();
  b.standing.give_up();
  handshake(a, b);
  EXPECT_EQ(a.restarts + b.restarts, 0); // both already failed their calls
  expect_both_hold(a, b, 1);
}

TEST(session_key, a_leftover_hello_names_no_session_or_an_older_one) {
  side a{inc_a};
  side b{inc_b};
  EXPECT_FALSE(is_leftover_hello(inc_a, a.standing, inc_b, uid{})); // nothing held
  handshake(a, b);
  a.standing.give_up();
  handshake(a, b); // generation 1 on both
  const auto& mine = a.standing;
  EXPECT_TRUE(is_leftover_hello(inc_a, mine, inc_b, uid{}));
  EXPECT_TRUE(is_leftover_hello(inc_a, mine, inc_b, session_key_for(inc_a, inc_b, 0)));
  EXPECT_TRUE(is_leftover_hello(inc_a, mine, inc_b, session_key_for(inc_a_restarted, inc_b, 1)));
  EXPECT_FALSE(is_leftover_hello(inc_a, mine, inc_b, session_key_for(inc_a, inc_b, 1)));
  EXPECT_FALSE(is_leftover_hello(inc_a, mine, inc_b, session_key_for(inc_a, inc_b, 2)));
  // From another incarnation it is a restart, never a leftover.
  EXPECT_FALSE(is_leftover_hello(inc_a, mine, uid{9, 9}, uid{}));
}

TEST(session_key, a_replay_applies_only_to_the_same_session) {
  session_standing held{inc_b, 2, true};
  const auto same = settle_session(inc_a, held, inc_b, session_key_for(inc_a, inc_b, 2));
  EXPECT_FALSE(same.restart);
  EXPECT_FALSE(same.replay_all);
  EXPECT_EQ(same.next, held);
  EXPECT_TRUE(settle_session(inc_a, held, inc_b, session_key_for(inc_a, inc_b, 1)).replay_all);
  EXPECT_TRUE(settle_session(inc_a, held, inc_b, uid{}).replay_all);
  const auto later = settle_session(inc_a, held, inc_b, session_key_for(inc_a, inc_b, 3));
  EXPECT_TRUE(later.restart);
  EXPECT_FALSE(later.replay_all);
  EXPECT_EQ(later.next, (session_standing{inc_b, 3, true}));
}

} // namespace
} // namespace grainflow
