# dray_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...]
#                 [OUTPUT_DIRECTORY <dir>] [INSTALL_DESTINATION <dir>]
#                 [NO_INSTALL])
#
# Builds <name>.so (no "lib" prefix), a module linked with the static SDK,
# compiled with hidden visibility and linked with a version script so that it
# exports only dray_plugin_entry_v*, with -z defs so a missing symbol fails
# the link instead of the load, and -z now so that a library lacking a
# function at run time makes the load fail, not the first call. Installs
# into the plugin folder of the dray it was built against (or
# INSTALL_DESTINATION) unless NO_INSTALL is given.
function(dray_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 P "NO_INSTALL"
                        "OUTPUT_DIRECTORY;INSTALL_DESTINATION"
                        "SOURCES;LIBRARIES")
  if(NOT P_SOURCES)
    message(FATAL_ERROR "dray_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR
      "dray_add_plugin(${name}): a plugin name is [a-z][a-z0-9_]*")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    C_STANDARD 11
    C_STANDARD_REQUIRED ON)
  target_link_libraries(${name} PRIVATE DraySDK::sdk ${P_LIBRARIES})
  target_link_options(${name} PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_FUNCTION_LIST_DIR}/dray_plugin.map"
    "LINKER:-z,defs"
    "LINKER:-z,now")
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  elseif(DEFINED DRAY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${DRAY_PLUGIN_OUTPUT_DIR})
  endif()
  if(NOT P_NO_INSTALL)
    if(P_INSTALL_DESTINATION)
      set(_dest ${P_INSTALL_DESTINATION})
    elseif(DEFINED DraySDK_PLUGIN_DIR)
      set(_dest ${DraySDK_PLUGIN_DIR}) # the installed dray's own folder
    else()
      set(_dest lib/dray/plugins)      # inside dray's own build
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION ${_dest})
  endif()
endfunction()
