#include "grainflow/transport/session_key.hpp"

#include "grainflow/endpoints/mix64.hpp"

namespace grainflow {

// -- derivation ---------------------------------------------------------------

std::uint64_t session_pair_id(const uid& a, const uid& b) noexcept {
  const auto& lo = b < a ? b : a;
  const auto& hi = b < a ? a : b;
  std::uint64_t h = 0x9e3779b97f4a7c15u;
  for (auto half : {lo.first, lo.second, hi.first, hi.second})
    h = mix64(h ^ half);
  return h != 0 ? h : 1;
}

uid session_key_for(const uid& a, const uid& b, std::uint64_t generation) noexcept {
  return uid{session_pair_id(a, b), generation};
}

// -- standing -----------------------------------------------------------------

void session_standing::give_up() noexcept {
  if (!held)
    return;
  held = false;
  ++generation;
}

uid hello_session_key(const uid& own, const session_standing& mine) noexcept {
  if (!mine.peer_incarnation)
    return uid{};
  return session_key_for(own, *mine.peer_incarnation, mine.generation);
}

// -- settling -----------------------------------------------------------------

settlement settle_session(const uid& own, const session_standing& mine, const uid& theirs,
                          const uid& their_key) noexcept {
  settlement out;
  out.next = mine;
  if (mine.peer_incarnation && *mine.peer_incarnation != theirs) {
    out.restart = true; // 1: it restarted
    out.next = session_standing{};
  }
  out.next.peer_incarnation = theirs;
  const auto pair = session_pair_id(own, theirs);
  if (their_key.first == pair && their_key.second > out.next.generation) {
    out.restart = out.restart || out.next.held; // 2: they gave ours up
    out.next.generation = their_key.second;
  } else if (their_key.first != pair || their_key.second < out.next.generation) {
    out.replay_all = true; // 3: they hold nothing here
  }
  out.next.held = true;
  out.key = session_key_for(own, theirs, out.next.generation);
  return out;
}

bool is_leftover_hello(const uid& own, const session_standing& mine, const uid& theirs,
                       const uid& their_key) noexcept {
  if (!mine.held || mine.peer_incarnation != theirs)
    return false;
  return their_key.first != session_pair_id(own, theirs) || their_key.second < mine.generation;
}

} // namespace grainflow
