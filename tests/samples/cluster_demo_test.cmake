# The cluster samples as separate processes: three nodes and both clients,
# with a small key count, on ports of their own (23300..23313, below the ephemeral range) so that a
# `./build.sh demo` running meanwhile (23100..) does not collide. Included
# from the top-level CMakeLists.txt after add_subdirectory(samples), so that
# the sample targets exist. ThreadSanitizer trees build no samples.
if(GRAINFLOW_BUILD_SAMPLES AND TARGET kv_node AND TARGET calculator_node)
  add_test(NAME samples.cluster_demo
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_cluster_demo.sh
                   $<TARGET_FILE_DIR:kv_node>/.. --keys 500 --port-base 23300 --stats)
  set_tests_properties(samples.cluster_demo PROPERTIES
    TIMEOUT 120
    # The samples do not link tests/sanitizer_defaults.cpp: give them the
    # same UBSan suppressions for the uninstrumented CAF.
    ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=${PROJECT_SOURCE_DIR}/tests/ubsan_caf.supp")
endif()
