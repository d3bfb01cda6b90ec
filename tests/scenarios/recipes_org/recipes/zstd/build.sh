cmake .
