# Parsing and validation of node_config: TOML, flags, to_toml. No CAF, no
# threads, no sockets. For tests/actors/CMakeLists.txt: include(node_config_tests.cmake)
grainflow_test(NAME node_config_test SOURCES node_config_test.cpp DEPS grainflow::actors)
