# Installs the exported targets and a package config, so that an outside
# project can find_package(grainflow) and link grainflow::actors.
include(CMakePackageConfigHelpers)

install(EXPORT grainflowTargets NAMESPACE grainflow::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/grainflow)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/grainflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/grainflowConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/grainflow)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/grainflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/grainflowConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/grainflowConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/FindCAF.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/grainflow)
