//! The only module with `unsafe`: direct calls into `libssl` through `openssl-sys`.

#![allow(unsafe_code)]

mod ssl;

pub(crate) use ssl::*;
