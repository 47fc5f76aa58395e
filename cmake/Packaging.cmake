# Install layout of the service and its Debian package (`cpack -G DEB` in the build directory).
# Included at the end of the top-level CMakeLists.txt, after the cgroup-memory-manager target.
#
# Package contents, with CPACK_PACKAGING_INSTALL_PREFIX=/usr:
#   /usr/bin/cgroup-memory-manager                              (install rule in CMakeLists.txt)
#   /usr/lib/systemd/system/cgroup-memory-manager.service
#   /etc/default/cgroup-memory-manager                          (a conffile: kept on upgrade and removal)
#   /usr/share/man/man8/cgroup-memory-manager.8.gz              (only where help2man is installed)

set(CGMM_PACKAGE_MAINTAINER "cgroup-memory-manager maintainers <maintainers@cgroup-memory-manager.invalid>"
  CACHE STRING "Maintainer field of the Debian package")

install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/cgroup-memory-manager.service
  DESTINATION lib/systemd/system)
# /etc is absolute on purpose: the environment file belongs there whatever the prefix.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/cgroup-memory-manager.default
  DESTINATION /etc/default RENAME cgroup-memory-manager)

# The man page is the binary's own --help and --version, so it cannot drift from the options.
find_program(HELP2MAN_EXECUTABLE help2man)
find_program(GZIP_EXECUTABLE gzip)
if(HELP2MAN_EXECUTABLE AND GZIP_EXECUTABLE)
  set(cgmm_man ${CMAKE_CURRENT_BINARY_DIR}/cgroup-memory-manager.8)
  add_custom_command(OUTPUT ${cgmm_man}.gz
    COMMAND ${HELP2MAN_EXECUTABLE} --no-info --section=8
      "--name=reclaim page cache of containers over a threshold"
      --help-option=--help --version-option=--version
      --output=${cgmm_man} $<TARGET_FILE:cgroup-memory-manager>
    COMMAND ${GZIP_EXECUTABLE} -9nf ${cgmm_man}
    DEPENDS cgroup-memory-manager
    COMMENT "Generating the cgroup-memory-manager(8) man page"
    VERBATIM)
  add_custom_target(cgmm_man ALL DEPENDS ${cgmm_man}.gz)
  install(FILES ${cgmm_man}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
else()
  message(STATUS "help2man not found: building without the man page")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cgroup-memory-manager)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "reclaims page cache of containers over a threshold")
# CPack indents the extended description and turns its empty lines into " ." itself.
set(CPACK_PACKAGE_DESCRIPTION
  "A daemon that watches the leaf cgroups under one parent cgroup (the containers of a
Kubernetes node or Docker host) and, when a cgroup's page cache goes over a threshold,
asks the kernel to reclaim it: memory.force_empty on cgroup v1, memory.reclaim on
cgroup v2, at most once per cooldown. It exports Prometheus metrics.

The systemd service is installed but not enabled; configure it in
/etc/default/cgroup-memory-manager.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CGMM_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# A static binary depends on nothing; a dynamic build gets its library dependencies computed.
if(CGMM_STATIC)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
