//! Reports: the terminal table, the JSON summary and the report folder,
//! published whole or not at all.

pub mod charts;
pub mod compare;
pub mod consumer_groups;
pub mod explain;
pub mod figures;
pub mod folder;
pub mod junit;
pub mod names;
pub mod page;
pub mod perfetto;
pub mod publish;
pub mod record_path;
pub mod sweep;
pub mod table;
pub mod timeline;
