#!/bin/busybox sh
# The CGI runs inside the jail: busybox-static is its only dependency.
echo "Content-Type: text/plain"
echo
echo "hello from cgid, scenario @NAME@"
