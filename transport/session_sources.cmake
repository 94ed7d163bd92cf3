# The session layer of grainflow::transport: the connection handshake, session
# framing (reliable frames and acks), and the reliable session state machine.
# Paths are relative to transport/. All sans-IO: no sockets, threads or clocks.
set(GRAINFLOW_TRANSPORT_SESSION_SOURCES
    src/handshake.cpp
    src/session_frame.cpp
    src/session_key.cpp
    src/reliable_session.cpp)
