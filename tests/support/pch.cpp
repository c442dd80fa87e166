// Only here to give the shared precompiled header of the tests a translation unit.
