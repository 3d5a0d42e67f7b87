# The one warning list of every C build of Herald (heraldd, the unit tests,
# the fuzz targets, the bench tools). The test command sets WERROR=1 in the
# environment, so a warning fails it there and stays a warning elsewhere.
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifdef WERROR
WARN += -Werror
endif
