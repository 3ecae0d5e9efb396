## src/xapian/Makefile.mk — the Xapian backend, included by Makefile.am.
## Built unless ./configure --without-xapian; it is the only C++ code,
## and nothing outside this folder names a Xapian type.  Linked with the
## C driver and libstdc++ named, so that programs of C alone link it.

if XAPIAN
noinst_LTLIBRARIES += libjsxapian.la
libjsxapian_la_SOURCES = \
	src/xapian/xapian_shim.h src/xapian/xapian_shim.cc \
	src/xapian/xapian_build.h src/xapian/xapian_build.c \
	src/xapian/xapian_search.h src/xapian/xapian_search.c \
	src/xapian/xapian_backend.c
libjsxapian_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JANSSON_CFLAGS)
libjsxapian_la_CXXFLAGS = $(AM_CXXFLAGS) -fvisibility=hidden $(XAPIAN_CFLAGS)
libjsxapian_la_LIBADD = $(XAPIAN_LIBS)
# libtool drops -lstdc++ from a C++ library's dependencies (its C++
# driver would add it): whatever links the backend names it itself.
JS_XAPIAN_LA = libjsxapian.la -lstdc++
else
JS_XAPIAN_LA =
EXTRA_DIST += \
	src/xapian/xapian_shim.h src/xapian/xapian_shim.cc \
	src/xapian/xapian_build.h src/xapian/xapian_build.c \
	src/xapian/xapian_search.h src/xapian/xapian_search.c \
	src/xapian/xapian_backend.c
endif
EXTRA_DIST += src/xapian/Makefile.mk
