# Tests of the provider interfaces and the real network on standalone Asio.
# The executor and network tests start the network thread, so they also run
# under ThreadSanitizer; they use real sockets on 127.0.0.1 with ephemeral
# ports only.
grainflow_test(NAME unique_function_test SOURCES unique_function_test.cpp DEPS grainflow::transport)
grainflow_test(NAME asio_executor_test SOURCES asio_executor_test.cpp DEPS grainflow::transport
               CONCURRENCY)
grainflow_test(NAME asio_network_test SOURCES asio_network_test.cpp DEPS grainflow::transport
               CONCURRENCY)
