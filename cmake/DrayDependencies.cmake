# Finds dray's dependencies. A missing one stops configure with the Debian
# package that provides it. DRAY_PRETEND_MISSING (a list of names) makes
# configure behave as if those were absent; the test suite uses it to check
# the message.
find_package(PkgConfig)

function(_dray_missing name debpkg)
  message(FATAL_ERROR
    "dray needs ${name}, which was not found.\n"
    "Install it with: apt-get install ${debpkg}")
endfunction()

function(_dray_pretend_missing name out)
  if(name IN_LIST DRAY_PRETEND_MISSING)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# dray_pkg_dependency(<name> <pkg-config module> <debian package>)
# defines the imported target Dray::<name>.
function(dray_pkg_dependency name module debpkg)
  _dray_pretend_missing(${name} _gone)
  if(_gone OR NOT PKG_CONFIG_FOUND)
    _dray_missing(${name} "${debpkg}")
  endif()
  pkg_check_modules(DRAY_DEP_${name} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT DRAY_DEP_${name}_FOUND)
    _dray_missing(${name} "${debpkg}")
  endif()
  add_library(Dray::${name} ALIAS PkgConfig::DRAY_DEP_${name})
endfunction()

if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "dray needs pkg-config, which was not found.\n"
                      "Install it with: apt-get install pkg-config")
endif()

dray_pkg_dependency(jansson jansson libjansson-dev)
dray_pkg_dependency(yaml yaml-0.1 libyaml-dev)
dray_pkg_dependency(pq libpq libpq-dev)
dray_pkg_dependency(curl libcurl libcurl4-openssl-dev)
dray_pkg_dependency(openssl openssl libssl-dev)
dray_pkg_dependency(odbc odbc unixodbc-dev)
dray_pkg_dependency(zlib zlib zlib1g-dev)

# libltdl ships no pkg-config file.
_dray_pretend_missing(ltdl _ltdl_gone)
find_path(DRAY_LTDL_INCLUDE_DIR ltdl.h)
find_library(DRAY_LTDL_LIBRARY ltdl)
if(_ltdl_gone OR NOT DRAY_LTDL_INCLUDE_DIR OR NOT DRAY_LTDL_LIBRARY)
  _dray_missing(libltdl libltdl-dev)
endif()
add_library(Dray::ltdl UNKNOWN IMPORTED GLOBAL)
set_target_properties(Dray::ltdl PROPERTIES
  IMPORTED_LOCATION ${DRAY_LTDL_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${DRAY_LTDL_INCLUDE_DIR})

find_package(Threads REQUIRED)
