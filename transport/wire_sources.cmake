# The wire layer of grainflow::transport: CRC32C, packet framing, the stream
# decoder. Paths are relative to transport/. crc32c_sse42.cpp needs no special
# flags: its SSE4.2 functions carry their own target attribute (see the file).
set(GRAINFLOW_TRANSPORT_WIRE_SOURCES
    src/crc32c.cpp
    src/crc32c_sse42.cpp
    src/packet.cpp
    src/packet_decoder.cpp
    src/packet_scratch.cpp
    src/packet_writer.cpp)
