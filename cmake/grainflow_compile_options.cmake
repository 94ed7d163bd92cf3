# Compile options shared by every grainflow target.

find_program(GRAINFLOW_CCACHE ccache)
if(GRAINFLOW_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${GRAINFLOW_CCACHE})
endif()

add_library(grainflow_warnings INTERFACE)
target_compile_options(grainflow_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror)

add_library(grainflow_sanitizers INTERFACE)
if(GRAINFLOW_SANITIZER STREQUAL "address")
  target_compile_options(grainflow_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer)
  # Checks stay recoverable so that the suppressions in tests/ubsan_caf.supp
  # work; halt_on_error=1 (tests/sanitizer_defaults.cpp) still stops at the first.
  target_link_options(grainflow_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(GRAINFLOW_SANITIZER STREQUAL "thread")
  target_compile_options(grainflow_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(grainflow_sanitizers INTERFACE -fsanitize=thread)
elseif(NOT GRAINFLOW_SANITIZER STREQUAL "" AND NOT GRAINFLOW_SANITIZER STREQUAL "none")
  message(FATAL_ERROR "GRAINFLOW_SANITIZER must be none, address or thread, not '${GRAINFLOW_SANITIZER}'")
endif()

# grainflow_library(NAME <n> SOURCES ... DEPS ...): one library per source folder,
# exported as grainflow::<n>, public headers under <folder>/include.
function(grainflow_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(grainflow_${ARG_NAME} ${ARG_SOURCES})
  add_library(grainflow::${ARG_NAME} ALIAS grainflow_${ARG_NAME})
  set_target_properties(grainflow_${ARG_NAME} PROPERTIES EXPORT_NAME ${ARG_NAME}
                                                       OUTPUT_NAME grainflow_${ARG_NAME})
  target_include_directories(grainflow_${ARG_NAME} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(grainflow_${ARG_NAME} PUBLIC ${ARG_PUBLIC_DEPS}
    PRIVATE ${ARG_PRIVATE_DEPS} $<BUILD_INTERFACE:grainflow_warnings>
            $<BUILD_INTERFACE:grainflow_sanitizers>)
  target_compile_features(grainflow_${ARG_NAME} PUBLIC cxx_std_20)
  install(TARGETS grainflow_${ARG_NAME} EXPORT grainflowTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

# grainflow_executable(NAME <n> SOURCES ... DEPS ...): samples, tests, bench.
function(grainflow_executable)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} grainflow_warnings grainflow_sanitizers)
endfunction()
