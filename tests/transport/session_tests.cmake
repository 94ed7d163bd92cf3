# Tests of the session layer (handshake, session frames, the reliable session).
# All single-threaded and deterministic: no CONCURRENCY.
grainflow_test(NAME handshake_test SOURCES handshake_test.cpp DEPS grainflow::transport msgpackc-cxx)
grainflow_test(NAME session_key_test SOURCES session_key_test.cpp DEPS grainflow::transport)
grainflow_test(NAME session_frame_test SOURCES session_frame_test.cpp DEPS grainflow::transport)
grainflow_test(NAME reliable_session_test SOURCES reliable_session_test.cpp
               DEPS grainflow::transport)
