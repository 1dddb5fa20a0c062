#pragma once
// VTK rendering on our own Qt 6 QOpenGLWidget (Debian's VTK Qt module is built for Qt 5).
// Follows VTK 9.1's QVTKRenderWindowAdapter: a vtkGenericOpenGLRenderWindow sharing the
// widget's context, NoBlit frames, OpenGLInitContext() in initializeGL, then each paint
// renders and blits VTK's display framebuffer into defaultFramebufferObject().
#include <QOpenGLWidget>

#include <vtkNew.h>

class vtkGenericOpenGLRenderWindow;
class vtkObject;
class vtkRenderer;

namespace cw::ui {

class VtkGlWidget : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit VtkGlWidget(QWidget* parent = nullptr);
  ~VtkGlWidget() override;

  vtkRenderer* renderer() const;
  vtkGenericOpenGLRenderWindow* renderWindow() const;
  // Size of the render target in device pixels.
  QSize deviceSize() const;

 protected:
  void initializeGL() override;
  void resizeGL(int width, int height) override;
  void paintGL() override;

 private:
  void onVtkEvent(vtkObject* caller, unsigned long event, void* callData);
  void releaseGraphics();

  vtkNew<vtkGenericOpenGLRenderWindow> window_;
  vtkNew<vtkRenderer> renderer_;
  bool initialized_ = false;
};

}  // namespace cw::ui
