mod debian/build-php/modules/herald.so
mod debian/herald.ini
