//! The components, one per file. The settings page and its parts are in the admin bundle
//! only (feature `admin`).

mod access_notice;
mod agent_board;
mod alert_banner;
#[cfg(feature = "admin")]
mod alert_rules_panel;
mod chart_canvas;
mod connection_badge;
mod cumulative_controls;
mod cumulative_panel;
mod export_button;
mod header;
#[cfg(feature = "admin")]
mod history_page;
mod legend;
mod level_settings;
mod lines;
mod notice;
mod overview;
mod queues_wall;
mod realtime_tiles;
#[cfg(feature = "admin")]
mod rule_preview;
#[cfg(feature = "admin")]
mod service_levels_panel;
#[cfg(feature = "admin")]
mod settings_page;
mod sla_table;
mod stale_banner;
mod theme_switch;
mod tile;
mod trend_panel;
mod workflow_card;
mod workflow_page;
mod workspace_header;

pub use access_notice::AccessNotice;
pub use agent_board::AgentBoard;
pub use alert_banner::AlertBanner;
#[cfg(feature = "admin")]
pub use alert_rules_panel::AlertRulesPanel;
pub use chart_canvas::{ChartCanvas, painter};
pub use connection_badge::ConnectionBadge;
pub use cumulative_controls::CumulativeControls;
pub use cumulative_panel::CumulativePanel;
pub use export_button::ExportButton;
pub use header::Header;
#[cfg(feature = "admin")]
pub use history_page::HistoryPage;
pub use legend::Legend;
pub use level_settings::LevelSettings;
pub use lines::Lines;
pub use notice::Notice;
pub use overview::Overview;
pub use queues_wall::QueuesWall;
pub use realtime_tiles::RealtimeTiles;
#[cfg(feature = "admin")]
pub use rule_preview::RulePreview;
#[cfg(feature = "admin")]
pub use service_levels_panel::ServiceLevelsPanel;
#[cfg(feature = "admin")]
pub use settings_page::SettingsPage;
pub use sla_table::SlaTable;
pub use stale_banner::StaleBanner;
pub use theme_switch::ThemeSwitch;
pub use tile::Tile;
pub use trend_panel::TrendPanel;
pub use workflow_card::WorkflowCard;
pub use workflow_page::WorkflowPage;
pub use workspace_header::WorkspaceHeader;

use crate::model::view::ViewState;

/// The `href` of a view: real links, so they can be opened in a new tab or copied (with
/// the fragment, which carries the access token).
pub fn href(view: &ViewState) -> String {
    format!("?{}{}", view.to_query(), crate::browser::location_hash())
}

/// Whether a click should be left to the browser (new tab, new window, download).
pub fn is_modified_click(ev: &leptos::ev::MouseEvent) -> bool {
    ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() || ev.button() != 0
}
