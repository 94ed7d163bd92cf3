# Tests of the wire layer (CRC32C, packets, the stream decoder).
# crc32c_test starts threads (first use of the dispatcher from many threads).
grainflow_test(NAME crc32c_test SOURCES crc32c_test.cpp DEPS grainflow::transport CONCURRENCY)
grainflow_test(NAME packet_test SOURCES packet_test.cpp DEPS grainflow::transport msgpackc-cxx)
grainflow_test(NAME packet_decoder_test SOURCES packet_decoder_test.cpp DEPS grainflow::transport)
