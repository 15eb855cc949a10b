//! TCP connection with happy eyeballs (RFC 8305), recording each address's result (issue #3).
