#pragma once

/// @file
/// Session keys: which reliable session a connection carries, decided the same
/// way by both processes (docs/protocol.md, "Session keys and resuming").
///
/// A key is not drawn but derived: `[pair id, generation]`, where the pair id
/// names the two process incarnations (the same whichever side computes it)
/// and the generation counts the sessions the pair has given up. Two sides
/// that read each other's handshakes therefore never hold different keys for
/// the same session: each settles on the pair's key of the larger generation
/// either side knows, whichever handshake arrives first or gets lost.
///
/// Sans-IO and pure: the peer keeps a session_standing per remote process and
/// applies what settle_session() decides.

#include <cstdint>
#include <optional>

#include "grainflow/endpoints/uid.hpp"

namespace grainflow {

// -- derivation ---------------------------------------------------------------

/// Names the pair of incarnations `a` and `b`, in either order: splitmix64
/// folded over the smaller incarnation's halves, then the larger's
/// (docs/protocol.md gives the exact steps). Never 0, which in a key means
/// "no session".
[[nodiscard]] std::uint64_t session_pair_id(const uid& a, const uid& b) noexcept;

/// The key of the session of `generation` between incarnations `a` and `b`:
/// `{session_pair_id(a, b), generation}`. Always valid (non-zero).
[[nodiscard]] uid session_key_for(const uid& a, const uid& b, std::uint64_t generation) noexcept;

// -- standing -----------------------------------------------------------------

/// What one process knows about its session with one remote process.
struct session_standing {
  /// The remote process's incarnation, once a handshake named it.
  std::optional<uid> peer_incarnation;

  /// The generation of the session held, or of the next one when none is.
  std::uint64_t generation = 0;

  /// Whether a handshake established the session of `generation` (and it was
  /// not given up since).
  bool held = false;

  /// Gives the held session up (its calls fail): the next one has the next
  /// generation. Without a held session nothing changes.
  void give_up() noexcept;

  /// Compares every field.
  friend bool operator==(const session_standing&, const session_standing&) noexcept = default;
};

/// The session key a process with incarnation `own` puts in its handshake:
/// the pair's key of `mine.generation` (the held session's, or the one it
/// would start), or the zero uid while it does not know the remote
/// incarnation.
[[nodiscard]] uid hello_session_key(const uid& own, const session_standing& mine) noexcept;

// -- settling -----------------------------------------------------------------

/// What reading the other side's handshake decides, on either side.
struct settlement {
  /// The standing afterwards: the session of `key` is held.
  session_standing next;

  /// The key of the session the connection carries.
  uid key;

  /// The session held before is gone (the remote process restarted, or gave
  /// that session up): every call waiting on it fails.
  bool restart = false;

  /// The other side's last received does not apply to `key` (it named
  /// another session): resume as if it had received nothing.
  bool replay_all = false;
};

/// Settles the session a connection carries when a process of incarnation
/// `own` and standing `mine` reads a handshake from incarnation `theirs`
/// naming `their_key`. Both the acceptor (before it answers) and the dialer
/// (on the answer) apply the same rule:
///
/// 1. A remote incarnation other than the known one restarted: the held
///    session is gone and the pair starts at generation 0.
/// 2. A key of this pair with a larger generation: the other side gave up the
///    session held here, which is gone; adopt its generation.
/// 3. A key of this pair with a smaller generation, or no key of this pair
///    (zero, or one of this process's previous incarnation): the other side
///    holds nothing here; keep the generation, replay everything.
/// 4. The same key: the session resumes.
[[nodiscard]] settlement settle_session(const uid& own, const session_standing& mine,
                                        const uid& theirs, const uid& their_key) noexcept;

/// Whether a handshake from incarnation `theirs` naming `their_key` is a
/// leftover (a dial the other side abandoned, whose hello arrived late) that
/// must not replace a live connection: it comes from the known incarnation,
/// a session is held, and it names neither that session nor a later one.
[[nodiscard]] bool is_leftover_hello(const uid& own, const session_standing& mine,
                                     const uid& theirs, const uid& their_key) noexcept;

} // namespace grainflow
