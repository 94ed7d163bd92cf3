# The remote baselines (raw-tcp, caf-remote), the server-child harness and the
# comparison loop that the remote benchmarks share; bench/CMakeLists.txt adds these to
# grainflow-bench. Paths are relative to bench/.
set(GRAINFLOW_BENCH_REMOTE_SOURCES child_process.cpp remote_baselines.cpp remote_contender.cpp)
# caf-remote needs CAF's io::middleman (publish/remote_actor).
set(GRAINFLOW_BENCH_REMOTE_LIBS CAF::io)
