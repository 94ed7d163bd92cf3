set(GRAINFLOW_ACTORS_REGISTRY_SOURCES src/name_registry.cpp src/registry_announcer.cpp)
