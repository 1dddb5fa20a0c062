#include "cellwright/ui/vtk_gl_widget.h"

#include <QOpenGLContext>
#include <QtGui/qopengl.h>

#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>

namespace cw::ui {

VtkGlWidget::VtkGlWidget(QWidget* parent) : QOpenGLWidget(parent) {
  // Frames only reach the screen through our blit in paintGL; VTK never swaps.
  window_->SetFrameBlitModeToNoBlit();
  window_->SetReadyForRendering(false);
  window_->SetOwnContext(false);
  window_->SetMultiSamples(0);  // exact colours; Qt's framebuffer is single-sampled too
  window_->AddRenderer(renderer_);
  for (unsigned long event : {vtkCommand::WindowMakeCurrentEvent, vtkCommand::WindowIsCurrentEvent,
                              vtkCommand::WindowSupportsOpenGLEvent, vtkCommand::WindowIsDirectEvent,
                              vtkCommand::WindowFrameEvent})
    window_->AddObserver(event, this, &VtkGlWidget::onVtkEvent);
  setMinimumSize(200, 200);
}

VtkGlWidget::~VtkGlWidget() {
  releaseGraphics();
  window_->RemoveAllObservers();
}

vtkRenderer* VtkGlWidget::renderer() const { return renderer_.Get(); }
vtkGenericOpenGLRenderWindow* VtkGlWidget::renderWindow() const { return window_.Get(); }

QSize VtkGlWidget::deviceSize() const { return size() * devicePixelRatioF(); }

void VtkGlWidget::onVtkEvent(vtkObject*, unsigned long event, void* callData) {
  QOpenGLContext* ctx = context();
  switch (event) {
    case vtkCommand::WindowMakeCurrentEvent:
      // Never QOpenGLWidget::makeCurrent(): it rebinds the widget's framebuffer behind
      // VTK's state cache (black frames, GL_INVALID_FRAMEBUFFER_OPERATION).
      if (ctx) ctx->makeCurrent(ctx->surface());
      break;
    case vtkCommand::WindowIsCurrentEvent:
      *static_cast<bool*>(callData) = ctx && QOpenGLContext::currentContext() == ctx;
      break;
    case vtkCommand::WindowSupportsOpenGLEvent:
      *static_cast<int*>(callData) = ctx ? 1 : 0;
      break;
    case vtkCommand::WindowIsDirectEvent:
      *static_cast<int*>(callData) = 1;
      break;
    default:  // WindowFrameEvent: Qt composes and swaps the widget itself
      break;
  }
}

void VtkGlWidget::initializeGL() {
  // A new context (first show, or the widget moved to another window): VTK's resources
  // belong to the old one.
  releaseGraphics();
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &VtkGlWidget::releaseGraphics, Qt::UniqueConnection);
  window_->SetSize(deviceSize().width(), deviceSize().height());
  window_->OpenGLInitContext();
  initialized_ = true;
}

void VtkGlWidget::resizeGL(int, int) {
  const QSize s = deviceSize();
  window_->SetSize(s.width(), s.height());
}

void VtkGlWidget::paintGL() {
  if (!initialized_) return;
  const QSize s = deviceSize();
  vtkOpenGLState* state = window_->GetState();
  // Qt changed GL state since the last frame: VTK's cache must not trust it.
  state->Reset();
  state->Push();
  window_->SetReadyForRendering(true);
  window_->Render();
  window_->SetReadyForRendering(false);

  state->PushDrawFramebufferBinding();
  state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  state->vtkglDrawBuffer(GL_COLOR_ATTACHMENT0);
  state->vtkglViewport(0, 0, s.width(), s.height());
  state->vtkglScissor(0, 0, s.width(), s.height());
  window_->BlitDisplayFramebuffer(0, 0, 0, s.width(), s.height(), 0, 0, s.width(), s.height(),
                                  GL_COLOR_BUFFER_BIT, GL_NEAREST);
  // Opaque alpha, or the compositor blends the view with what lies behind the widget.
  state->vtkglColorMask(false, false, false, true);
  state->vtkglClearColor(0, 0, 0, 1);
  state->vtkglClear(GL_COLOR_BUFFER_BIT);
  state->vtkglColorMask(true, true, true, true);
  state->PopDrawFramebufferBinding();
  state->Pop();
}

void VtkGlWidget::releaseGraphics() {
  if (!initialized_ || !context()) return;
  initialized_ = false;
  QOpenGLContext* ctx = context();
  if (QOpenGLContext::currentContext() != ctx) ctx->makeCurrent(ctx->surface());
  window_->ReleaseGraphicsResources(window_);
}

}  // namespace cw::ui
