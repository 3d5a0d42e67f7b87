dnl ext/herald: the pecl / PIE build (phpize && ./configure && make).
dnl Sources live under ext/ and common/ (common/signed.c, common/secretfile.c and
dnl common/pusherapps.c are shared with heraldd).
PHP_ARG_ENABLE([herald],
  [whether to enable Herald (publish to heraldd)],
  [AS_HELP_STRING([--enable-herald], [Enable the Herald extension])],
  [yes])

if test "$PHP_HERALD" != "no"; then
  AC_PATH_PROG([PKG_CONFIG], [pkg-config], [no])
  if test "$PKG_CONFIG" = "no"; then
    AC_MSG_ERROR([pkg-config not found: install pkg-config (Debian: apt-get install pkg-config)])
  fi

  AC_MSG_CHECKING([for libcurl])
  if $PKG_CONFIG --exists 'libcurl >= 7.40.0'; then
    HERALD_CURL_CFLAGS=`$PKG_CONFIG --cflags libcurl`
    HERALD_CURL_LIBS=`$PKG_CONFIG --libs libcurl`
    dnl a variable, not backquotes in AC_MSG_RESULT: those were printed as is
    HERALD_CURL_VERSION=`$PKG_CONFIG --modversion libcurl`
    AC_MSG_RESULT([$HERALD_CURL_VERSION])
  else
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([libcurl >= 7.40 development files not found: install libcurl4-openssl-dev (Debian/Ubuntu: apt-get install libcurl4-openssl-dev)])
  fi

  AC_MSG_CHECKING([for libcrypto])
  if $PKG_CONFIG --exists 'libcrypto >= 1.1.1'; then
    HERALD_CRYPTO_CFLAGS=`$PKG_CONFIG --cflags libcrypto`
    HERALD_CRYPTO_LIBS=`$PKG_CONFIG --libs libcrypto`
    dnl a variable, not backquotes in AC_MSG_RESULT: those were printed as is
    HERALD_CRYPTO_VERSION=`$PKG_CONFIG --modversion libcrypto`
    AC_MSG_RESULT([$HERALD_CRYPTO_VERSION])
  else
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([OpenSSL libcrypto >= 1.1.1 development files not found: install libssl-dev (Debian/Ubuntu: apt-get install libssl-dev)])
  fi

  PHP_EVAL_INCLINE([$HERALD_CURL_CFLAGS $HERALD_CRYPTO_CFLAGS])
  PHP_EVAL_LIBLINE([$HERALD_CURL_LIBS $HERALD_CRYPTO_LIBS], HERALD_SHARED_LIBADD)
  PHP_SUBST(HERALD_SHARED_LIBADD)

  PHP_NEW_EXTENSION(herald, ext/herald.c ext/pusher.c common/signed.c common/secretfile.c common/pusherapps.c, $ext_shared,, -DZEND_ENABLE_STATIC_TSRMLS_CACHE=1)
  PHP_ADD_BUILD_DIR($ext_builddir/ext)
  PHP_ADD_BUILD_DIR($ext_builddir/common)
  PHP_ADD_EXTENSION_DEP(herald, json)
  PHP_ADD_EXTENSION_DEP(herald, spl)
fi
