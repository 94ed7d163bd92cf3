# The node configuration (actors/src/node_config.cpp): TOML files and
# command-line flags. For actors/CMakeLists.txt:
#
#   include(node_config_sources.cmake)
#   grainflow_library(NAME actors
#     SOURCES ... ${GRAINFLOW_ACTORS_CONFIG_SOURCES}
#     PUBLIC_DEPS grainflow::transport CAF::core
#     PRIVATE_DEPS ${GRAINFLOW_ACTORS_CONFIG_LIBS})
#
# toml++: Debian's libtomlplusplus-dev is a compiled shared library; its
# CMake config defines tomlplusplus::tomlplusplus, which links
# libtomlplusplus.so and adds -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 (the
# library was built with exceptions, toml::v3::ex, which matches our build).
# CLI11 is header-only; its target only adds the include directory.
#
# GLOBAL: grainflow_actors is a static library, so every target linking it
# (tests/, samples/, bench/) also links toml++ and must see the imported
# target, not just actors/. The guards make a second include harmless.
# An installed grainflow needs toml++ too: grainflowConfig.cmake.in must add
#   find_dependency(tomlplusplus CONFIG)
# (CLI11 does not leave the build tree, see below.)
if(NOT TARGET tomlplusplus::tomlplusplus)
  find_package(tomlplusplus 3 CONFIG REQUIRED GLOBAL)
endif()
if(NOT TARGET CLI11::CLI11)
  find_package(CLI11 2 CONFIG REQUIRED GLOBAL)
endif()

set(GRAINFLOW_ACTORS_CONFIG_SOURCES src/node_config.cpp src/node_config_values.cpp)
# CLI11 is needed only to compile node_config.cpp, so it stays out of the
# installed export (BUILD_INTERFACE); toml++ is needed at link time too.
set(GRAINFLOW_ACTORS_CONFIG_LIBS tomlplusplus::tomlplusplus $<BUILD_INTERFACE:CLI11::CLI11>)
