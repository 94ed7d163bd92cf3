grainflow_test(NAME name_registry_test SOURCES name_registry_test.cpp ${caf_test_support} DEPS grainflow::actors CONCURRENCY CAF)
