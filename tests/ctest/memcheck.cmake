# ctest -S memcheck.cmake -DBUILD=DIR -DCHECKER=PATH [-DINCLUDE=REGEX]
#
# Runs the tests of an already built CMake tree under CHECKER in CTest's
# Valgrind mode (ctest_memcheck), for a project that does not include(CTest)
# itself (no DartConfiguration.tcl).  The defects land in
# DIR/Testing/<tag>/DynamicAnalysis.xml, as with `ctest -T memcheck`.
cmake_minimum_required(VERSION 3.13)
set(CTEST_SOURCE_DIRECTORY "${BUILD}")
set(CTEST_BINARY_DIRECTORY "${BUILD}")
set(CTEST_SITE "memlens-tests")
set(CTEST_BUILD_NAME "memcheck")
set(CTEST_MEMORYCHECK_COMMAND "${CHECKER}")
set(CTEST_MEMORYCHECK_TYPE Valgrind)
ctest_start(Experimental)
if(DEFINED INCLUDE)
  ctest_memcheck(INCLUDE "${INCLUDE}" RETURN_VALUE rv)
else()
  ctest_memcheck(RETURN_VALUE rv)
endif()
