# The network providers of grainflow::transport: the executor and network
# interfaces, and their real implementation on standalone Asio (header-only,
# Debian's libasio-dev). Asio is included only by the asio_*.cpp files and
# the private headers beside them, never by a public header. Paths are
# relative to transport/. The network thread needs Threads::Threads, which
# grainflow::endpoints already links publicly.
set(GRAINFLOW_TRANSPORT_NETWORK_SOURCES
    src/asio_connection.cpp
    src/asio_connector.cpp
    src/asio_listener.cpp
    src/asio_loop.cpp
    src/asio_network.cpp
    src/network_provider.cpp)

# g++ 12 warns (-Wtsan, an error under -Werror) that ThreadSanitizer does not
# model std::atomic_thread_fence, which Asio's handler completion uses
# (asio/detail/std_fenced_block.hpp). Those fences only back up the mutexes of
# Asio's scheduler and reactor, which ThreadSanitizer does see; the tests run
# under it without suppressions. The warning is off for Asio's units only.
if(GRAINFLOW_SANITIZER STREQUAL "thread")
  foreach(source IN ITEMS asio_connection asio_connector asio_listener asio_loop asio_network)
    set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/src/${source}.cpp
                                PROPERTIES COMPILE_OPTIONS -Wno-tsan)
  endforeach()
endif()
